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
# Each benchmark class sets sample mode (p0.50 is the median the targets refer to), its time
# unit and its warm-up: JSqlParser needs longer than the small policy and lexer methods before
# the JIT has settled. One fork keeps the whole run to about three minutes.
java -jar "$jar" "$filter" \
  -f 1 \
  -rf json -rff "$results" \
  ${JMH_OPTS:-}

echo
echo "Medians (p0.50), from $results:"
python3 - "$results" <<'PY' 2>/dev/null || echo "(python3 missing: read the p0.50 lines above)"
import json, sys
for run in json.load(open(sys.argv[1])):
    p = run["primaryMetric"]
    name = ".".join(run["benchmark"].rsplit(".", 2)[-2:])
    params = run.get("params") or {}
    if params:
        name += " [" + ", ".join(f"{k}={v[:40]}" for k, v in params.items()) + "]"
    print(f'{name:100s} median {p["scorePercentiles"]["50.0"]:10.3f} {p["scoreUnit"]}')
PY
