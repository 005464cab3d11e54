#!/bin/sh
# Seeds the fuzz corpora from the examples and the golden fixtures, so the fuzzers start from
# realistic clusters instead of from nothing. Run from fuzz/: `sh seed.sh`.
set -eu
mkdir -p corpus/analyze corpus/simulate corpus/selector corpus/annotations
for f in ../static/examples/*.yaml $(find ../tests/fixtures -name '*.yaml'); do
    name=$(echo "$f" | sed 's#^\.\./##; s#/#_#g')
    cp "$f" "corpus/analyze/$name"
done
# Selector seeds: every selector written in the examples and fixtures.
grep -rhoE '(node|namespace)?[sS]elector: .*' ../static/examples ../tests/fixtures 2>/dev/null \
    | sed -E 's/^[A-Za-z]*: //; s/^"(.*)"$/\1/; s/^'"'"'(.*)'"'"'$/\1/' | sort -u | {
    i=0
    while IFS= read -r line; do
        printf '%s' "$line" > "corpus/selector/seed-$i"
        i=$((i + 1))
    done
}
# Annotation seeds: the first byte picks the parser (see fuzz_targets/annotations.rs).
i=0
for value in '["10.0.0.5"]' '["fd00::5", "10.0.0.5"]' '["pool-a", "10.0.0.0/24"]' \
    '["IPv4", "IPv6"]' 'null' '["a", null]' '[1]' '{"a":1}' '"x"' '["10.0.0.1/32"]'; do
    for sel in 0 1 2 3 4 5 253; do
        printf "\\$(printf '%03o' "$sel")%s" "$value" > "corpus/annotations/seed-$i"
        i=$((i + 1))
    done
done
