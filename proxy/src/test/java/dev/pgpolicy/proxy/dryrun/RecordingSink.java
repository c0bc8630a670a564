package dev.pgpolicy.proxy.dryrun;

import java.util.ArrayList;
import java.util.List;

/** Keeps everything a reader delivers. */
final class RecordingSink implements TrafficSink {
    final List<CapturedStatement> statements = new ArrayList<>();
    final List<InputProblem> problems = new ArrayList<>();
    final List<InputProblem> notices = new ArrayList<>();

    @Override
    public void statement(CapturedStatement statement) {
        statements.add(statement);
    }

    @Override
    public void problem(InputProblem problem) {
        problems.add(problem);
    }

    @Override
    public void notice(InputProblem notice) {
        notices.add(notice);
    }

    List<String> sql() {
        return statements.stream().map(CapturedStatement::sql).toList();
    }

    List<String> users() {
        return statements.stream().map(s -> s.session().displayUser()).toList();
    }
}
