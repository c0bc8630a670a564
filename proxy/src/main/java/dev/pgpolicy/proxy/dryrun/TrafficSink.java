package dev.pgpolicy.proxy.dryrun;

/** Where an input reader delivers what it read, in input order. */
public interface TrafficSink {
    void statement(CapturedStatement statement);

    void problem(InputProblem problem);

    /** A note that is not an error (an encrypted connection skipped, a stream joined mid-way). */
    void notice(InputProblem notice);
}
