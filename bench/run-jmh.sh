#!/usr/bin/env bash
# Builds the JMH benchmarks and runs them with settings short enough for a 2-core machine
# (a few minutes in all), printing sample-mode percentiles so the medians can be read off.
#
#   bench/run-jmh.sh                 # every benchmark
#   bench/run-jmh.sh Decision        # only benchmarks whose name matches the regex
#
# Extra JMH options can be passed in JMH_OPTS, e.g. JMH_OPTS="-f 2 -wi 5".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jar="$root/bench/target/benchmarks.jar"

(cd "$root" && mvn -q -B -DskipTests -pl bench -am package)

filter=${1:-dev.pgpolicy.bench}
results="$root/bench/target/jmh-results.json"
# SampleTime gives a distribution per benchmark: p0.50 is the median the targets refer to.
# One fork, short warm-up: enough for the JIT to settle on these small methods.
java -jar "$jar" "$filter" \
  -bm sample -tu us \
  -f 1 -wi 3 -w 2s -i 5 -r 2s \
  -rf json -rff "$results" \
  ${JMH_OPTS:-}

echo
echo "Medians (p0.50), from $results:"
python3 - "$results" <<'PY' 2>/dev/null || echo "(python3 missing: read the p0.50 lines above)"
import json, sys
for run in json.load(open(sys.argv[1])):
    p = run["primaryMetric"]
    print(f'{run["benchmark"].rsplit(".", 2)[-2] + "." + run["benchmark"].rsplit(".", 1)[-1]:60s}'
          f' median {p["scorePercentiles"]["50.0"]:10.3f} {p["scoreUnit"]}')
PY
