#!/bin/sh
# Runs fuzz targets one after another (never two at once: the machine's cores are shared),
# each for the given number of seconds, with the limits the project uses. Usage, from fuzz/:
#   sh run.sh simulate:600 analyze:900
# libFuzzer's final statistics end up in logs/<target>-<timestamp>.log.
set -u
mkdir -p logs
for spec in "$@"; do
    target=${spec%%:*}
    seconds=${spec#*:}
    mkdir -p "corpus/$target"
    cargo +nightly fuzz run -O "$target" "corpus/$target" -- -jobs=1 -max_total_time="$seconds" \
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        > "logs/$target-$(date +%H%M%S).log" 2>&1
done
