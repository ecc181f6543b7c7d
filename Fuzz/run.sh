#!/usr/bin/env bash
# Builds a libFuzzer target with AddressSanitizer and runs it for a while.
#
#   Fuzz/run.sh CSVReaderFuzz 60        # or: csv
#   Fuzz/run.sh ArgumentParserFuzz 60   # or: arguments
#   Fuzz/run.sh RunCommandFuzz 60       # or: run (random --data bytes through a whole run command)
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
  RunCommandFuzz | run)
    # The whole command: every library source in one module, with a Bundle.module for
    # the bundled data (SwiftPM generates it in a package build).
    target=RunCommandFuzz
    sources=($(find Sources/Autodiff Sources/BilevelAD Sources/BilevelCLI -name '*.swift' | sort) Fuzz/BundleModule.swift)
    ;;
  *)
    echo "unknown target '$target' (CSVReaderFuzz, ArgumentParserFuzz or RunCommandFuzz)" >&2
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
extra=()
[ "$target" = RunCommandFuzz ] || extra=(Sources/Autodiff/Tensor/Require.swift)
for file in "${sources[@]}" "${extra[@]}"; do
  sed -e '/^import Autodiff$/d' -e '/^@_exported import Autodiff$/d' -e '/^import BilevelAD$/d' "$file" > "$staged/$(echo "$file" | tr / _)"
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
  if [ "$target" = RunCommandFuzz ]; then
    head -40 Sources/BilevelAD/Resources/breast_cancer.csv > "$corpus/breast-cancer"
    printf '1,2,0\n3,4,1\n5,6,0\n7,8,1\n9,1,0\n2,2,1\n3,3,0\n4,5,1\n' > "$corpus/small"
  fi
fi

exec "$out/$target" -max_total_time="$seconds" -artifact_prefix="$out/" -print_final_stats=1 "$@" "$corpus"
