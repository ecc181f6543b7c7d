#!/usr/bin/env bash
# Builds a libFuzzer target with AddressSanitizer and runs it for a while.
#
#   Fuzz/run.sh CSVReaderFuzz 60        # or: csv
#   Fuzz/run.sh ArgumentParserFuzz 60   # or: arguments
#
# The binary, the corpus (.build-fuzz/corpus-TARGET/) and any crash reproducers
# (.build-fuzz/crash-*) go under .build-fuzz/ at the package root. Re-running reuses
# and grows the corpus. Extra arguments after SECONDS go to libFuzzer.
set -euo pipefail

cd "$(dirname "$0")/.."
target=${1:?usage: Fuzz/run.sh TARGET SECONDS [libFuzzer options...]}
seconds=${2:-60}
shift $(( $# >= 2 ? 2 : 1 ))

case "$target" in
  CSVReaderFuzz | csv)
    target=CSVReaderFuzz
    sources=(Sources/BilevelAD/Data/CSVReader.swift)
    ;;
  ArgumentParserFuzz | arguments)
    target=ArgumentParserFuzz
    sources=(Sources/BilevelCLI/Arguments/*.swift)
    ;;
  *)
    echo "unknown target '$target' (CSVReaderFuzz or ArgumentParserFuzz)" >&2
    exit 64
    ;;
esac

out=.build-fuzz
corpus="$out/corpus-$target"
mkdir -p "$corpus"

# The sources are compiled into one module with the fuzz target: their `import Autodiff`
# (used only for `require`) is dropped and the one file that defines `require` is added.
staged="$out/src-$target"
rm -rf "$staged" && mkdir -p "$staged"
for file in "${sources[@]}" Sources/Autodiff/Tensor/Require.swift; do
  sed '/^import Autodiff$/d' "$file" > "$staged/$(basename "$file")"
done
swiftc -sanitize=fuzzer,address -parse-as-library -O -swift-version 6 -package-name fuzz \
  -module-name "$target" "Fuzz/$target.swift" "$staged"/*.swift -o "$out/$target"

# Seed an empty corpus with a few typical inputs.
if [ -z "$(ls -A "$corpus")" ]; then
  if [ "$target" = CSVReaderFuzz ]; then
    printf 'x1,x2,label\n0.5,-1e-3,1\n2,3,0\n' > "$corpus/header"
    printf '\xef\xbb\xbf1,2\r\n3,4\r\n' > "$corpus/bom-crlf"
    printf '"a ""b""",c\n 1 , "2"\n\n3,4' > "$corpus/quotes"
    printf '1,nan\n1e999,2\n1,2,3\n' > "$corpus/errors"
  else
    printf 'Discussion text.\nrun\0quadratic\0--iterations=5\0--algorithm\0soba,bome\0--quiet' > "$corpus/run"
    printf '\nhelp\0run' > "$corpus/help"
    printf 'x\nrun\0--itrations\0-3\0--outer-step\0-0.5\0--\0--data' > "$corpus/errors"
    printf 'y\nplot\0a\0b\0--output=p.svg' > "$corpus/plot"
  fi
fi

exec "$out/$target" -max_total_time="$seconds" -artifact_prefix="$out/" -print_final_stats=1 "$@" "$corpus"
