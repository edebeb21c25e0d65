#!/usr/bin/env bash
# One prepared run for a machine with an NVIDIA GPU: the CUDA tests, then the
# dense and graph benchmarks with device='cuda' (samples/s printed beside the
# CPU figures recorded in docs/benchmarks.md).
#
# The device image has torch, scikit-learn, networkx and torch-geometric but
# not skorch: carry its wheel in .whl/ (see ../.library/device/README.md), e.g.
#   python3 -m pip download --no-deps --only-binary=:all: -d .whl skorch==1.4.0
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu_check}
mkdir -p "$out"
if ! python3 -c "import skorch" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-}
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$out/gpu.txt"
status=0
python3 -m pytest -p no:cacheprovider -q -o addopts="" tests/test_cuda.py tests/test_mlp.py -k "cuda" \
    2>&1 | tee "$out/cuda_tests.txt" || status=1
python3 benchmarks/bench_dense.py --device cuda 2>&1 | tee "$out/bench_dense_cuda.txt" || status=1
if [ -f benchmarks/bench_gnn.py ]; then
    python3 benchmarks/bench_gnn.py --device cuda 2>&1 | tee "$out/bench_gnn_cuda.txt" || status=1
fi
exit $status
