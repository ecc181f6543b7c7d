"""Side-by-side timing: `bilevel-cli bench` against JAX-jit (CPU, float64) and numpy's
OpenBLAS DGEMM, interleaved on the same machine, with the ratio table printed as Markdown.

Not part of the Swift package: no target builds or calls this, and no test needs Python.
Set-up (JAX from PyPI into a virtual environment) and a run:

    python3 -m venv /tmp/peers-venv
    /tmp/peers-venv/bin/pip install jax==0.10.2 jaxlib==0.10.2
    swift build -c release --product bilevel-cli
    /tmp/peers-venv/bin/python Benchmarks/jax_peer.py .build/release/bilevel-cli --rounds 2

Each round runs `bilevel-cli bench --repeats 15 --json` and then every JAX case; each figure
is the minimum over rounds of the per-round medians. `--peer-only` prints the JAX lines
alone. The JAX cases are the package bench's cases with the same sizes and functions
(the data differ: both draw their own random inputs of the same distributions).
"""
import argparse, json, os, platform, re, subprocess, sys, tempfile, time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2")


def median_us(reps, fn, *args):
    import jax
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append((time.perf_counter() - t0) * 1e6)
    return sorted(times)[len(times) // 2]


def jax_cases():
    """Yields (case, operation, microseconds or GFLOP/s) in the bench's names."""
    import numpy as np, jax, jax.numpy as jnp
    from jax.scipy.sparse.linalg import cg
    jax.config.update("jax_enable_x64", True)

    def modes(case, f, w, v, reps):
        g = jax.jit(jax.grad(f))
        hfor = jax.jit(lambda w, v: jax.jvp(jax.grad(f), (w,), (v,))[1])
        hror = jax.jit(lambda w, v: jax.grad(lambda w: jnp.vdot(jax.grad(f)(w), v))(w))
        hrof = jax.jit(lambda w, v: jax.grad(lambda w: jax.jvp(f, (w,), (v,))[1])(w))
        yield case, "gradient", median_us(reps, g, w)
        yield case, "hvp forwardOverReverse", median_us(reps, hfor, w, v)
        yield case, "hvp reverseOverReverse", median_us(reps, hror, w, v)
        yield case, "hvp reverseOverForward", median_us(reps, hrof, w, v)

    rng = np.random.default_rng(42)
    for n, d, reps in [(1000, 50, 200), (10000, 100, 40), (50000, 22, 30)]:
        X = jnp.asarray(rng.uniform(-1, 1, (n, d)))
        y = jnp.asarray((rng.uniform(-1, 1, n) > 0).astype(float))
        w = jnp.asarray(rng.uniform(-1, 1, d) * 0.1)
        v = jnp.asarray(rng.uniform(-1, 1, d))
        f = lambda w, X=X, y=y: jnp.mean(jax.nn.softplus(X @ w) - y * (X @ w)) + 0.05 * jnp.sum(w * w)
        yield from modes(f"logistic {n} x {d}", f, w, v, reps)

    # MLP 64-128-10, tanh hidden layer, softmax cross-entropy, batch 256, one parameter vector.
    Xb = jnp.asarray(rng.standard_normal((256, 64)))
    Yb = jnp.asarray(np.eye(10)[rng.integers(0, 10, 256)])
    sizes = [(64, 128), (128,), (128, 10), (10,)]
    count = sum(int(np.prod(s)) for s in sizes)

    def mlp(p):
        i, ws = 0, []
        for s in sizes:
            k = int(np.prod(s))
            ws.append(p[i:i + k].reshape(s))
            i += k
        W1, b1, W2, b2 = ws
        z = jnp.tanh(Xb @ W1 + b1) @ W2 + b2
        return jnp.mean(jax.nn.logsumexp(z, axis=1) - jnp.sum(z * Yb, axis=1))

    yield from modes("mlp 64-128-10", mlp, jnp.asarray(rng.standard_normal(count) * 0.1),
                     jnp.asarray(rng.standard_normal(count)), 200)

    rosen = lambda x: jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    for d, reps in [(10, 500), (1000, 500), (100000, 50)]:
        yield from modes(f"rosenbrock {d}", rosen, jnp.asarray(rng.uniform(-1, 1, d)),
                         jnp.asarray(rng.uniform(-1, 1, d)), reps)

    for d, reps in [(100, 500), (1000, 100)]:
        M = rng.standard_normal((d, d))
        A = jnp.asarray(M @ M.T / d + np.eye(d))
        b = jnp.asarray(rng.standard_normal(d))
        quad = lambda x, A=A, b=b: 0.5 * x @ (A @ x) - b @ x
        yield from modes(f"quadratic {d}", quad, jnp.asarray(rng.standard_normal(d)),
                         jnp.asarray(rng.standard_normal(d)), reps)

    # Per-operation overhead: 100 multiply-adds with scalar literals (200 recorded operations).
    def chain(x):
        t = x
        for _ in range(100):
            t = t * 1.0001 + 0.001
        return jnp.sum(t)

    for size in (1, 16):
        x = jnp.asarray(rng.uniform(-1, 1, size))
        yield f"{size} elements", "per op, scalar literals, one reverse level", median_us(500, jax.jit(jax.grad(chain)), x) / 200

    # Bilevel quadratic: g = ½ (y − Bx)ᵀ A (y − Bx), f = ½ ‖y − c‖² + ½ μ ‖x‖².
    for d in (100, 1000):
        Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
        A = jnp.asarray(Q @ np.diag(np.linspace(1, 100, d)) @ Q.T)
        B = jnp.asarray(rng.standard_normal((d, d)) / np.sqrt(d))
        c = jnp.asarray(rng.standard_normal(d))
        x = jnp.asarray(rng.standard_normal(d))
        g = lambda x, y, A=A, B=B: 0.5 * (y - B @ x) @ (A @ (y - B @ x))
        f = lambda x, y, c=c: 0.5 * jnp.sum((y - c) ** 2) + 0.05 * jnp.sum(x ** 2)

        def implicit(x, y, f=f, g=g):
            hvp = lambda v: jax.jvp(lambda yy: jax.grad(g, 1)(x, yy), (y,), (v,))[1]
            v, _ = cg(hvp, jax.grad(f, 1)(x, y), tol=1e-10, maxiter=2000)
            return jax.grad(f, 0)(x, y) - jax.grad(lambda xx: jnp.vdot(jax.grad(g, 1)(xx, y), v))(x)

        yield f"quadratic d = {d}", "implicit CG to 1e-10", median_us(50, jax.jit(implicit), x, B @ x)
        for K in ((10, 100) if d == 100 else (10,)):
            def unrolled(x, K=K, f=f, g=g, d=d):
                y = jax.lax.fori_loop(0, K, lambda i, y: y - 0.01 * jax.grad(g, 1)(x, y), jnp.zeros(d))
                return f(x, y)
            yield f"quadratic d = {d}", f"unrolled reverse K = {K}", median_us(20, jax.jit(jax.grad(unrolled)), x)
            if d == 100:
                # Forward unrolling: the d × d Jacobian dy/dx pushed through the loop (jacfwd).
                yield f"quadratic d = {d}", f"unrolled forward K = {K}", median_us(20, jax.jit(jax.jacfwd(unrolled)), x)

    for n in (256, 512, 1024):
        A = rng.standard_normal((n, n))
        B = rng.standard_normal((n, n))
        A @ B
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            A @ B
            times.append(time.perf_counter() - t0)
        yield f"{n} x {n}", "GFLOP/s, numpy OpenBLAS", 2 * n ** 3 / sorted(times)[3] / 1e9


# (our case, our operation) against (peer case, peer operation); GFLOP/s rows compare
# throughput, so their ratio is inverted to read "time here / time there".
PAIRS = [
    *[((c, op), (c, op)) for c in ("logistic 1000 x 50", "logistic 10000 x 100", "logistic 50000 x 22",
                                 "rosenbrock 1000", "rosenbrock 100000", "quadratic 1000")
      for op in ("gradient", "hvp forwardOverReverse", "hvp reverseOverReverse", "hvp reverseOverForward")],
    # The same cases with their elementwise chains fused (`ElementwiseFunction`), as XLA fuses them.
    *[((c + " fused", op), (c, op)) for c in ("logistic 1000 x 50", "logistic 10000 x 100", "logistic 50000 x 22",
                                            "rosenbrock 1000", "rosenbrock 100000")
      for op in ("gradient", "hvp forwardOverReverse", "hvp reverseOverReverse", "hvp reverseOverForward")],
    (("mlp 64-128-10 layouts", "gradient, flat vector"), ("mlp 64-128-10", "gradient")),
    (("mlp 64-128-10 layouts", "hvp forwardOverReverse, flat vector"), ("mlp 64-128-10", "hvp forwardOverReverse")),
    (("quadratic 100", "gradient"), ("quadratic 100", "gradient")),
    (("quadratic d = 100", "implicit CG to 1e-10"), ("quadratic d = 100", "implicit CG to 1e-10")),
    (("quadratic d = 100", "unrolled reverse K = 100"), ("quadratic d = 100", "unrolled reverse K = 100")),
    (("quadratic d = 100", "unrolled forward K = 100"), ("quadratic d = 100", "unrolled forward K = 100")),
    (("quadratic d = 1000", "implicit CG to 1e-10"), ("quadratic d = 1000", "implicit CG to 1e-10")),
    (("16 elements", "per op, scalar literals, one reverse level"), ("16 elements", "per op, scalar literals, one reverse level")),
    *[((f"{n} x {n}", "GFLOP/s, 1 thread"), (f"{n} x {n}", "GFLOP/s, numpy OpenBLAS")) for n in (256, 512, 1024)],
    *[((f"{n} x {n}", "GFLOP/s, 2 threads"), (f"{n} x {n}", "GFLOP/s, numpy OpenBLAS")) for n in (256, 512, 1024)],
]


def cpu_description():
    model, flags = platform.processor() or "unknown CPU", ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name") and model in ("", "unknown CPU", platform.processor()):
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = line.split(":", 1)[1]
                break
    except OSError:
        pass
    wanted = [f for f in ("sse2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512vl") if f" {f} " in f" {flags} "]
    return f"{model}, {os.cpu_count()} logical CPUs, flags: {' '.join(wanted)}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cli", nargs="?", help="path to a release build of bilevel-cli")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--peer-only", action="store_true")
    args = parser.parse_args()
    if args.peer_only:
        for case, op, value in jax_cases():
            print(f"{case} | {op} | {value:.3f}", flush=True)
        return
    if not args.cli:
        parser.error("give the path to bilevel-cli (or --peer-only)")
    ours, peer = {}, {}
    keep = lambda table, key, value, better=min: table.__setitem__(key, better(table.get(key, value), value))
    for round in range(args.rounds):
        print(f"round {round + 1}/{args.rounds}: bilevel-cli bench", file=sys.stderr, flush=True)
        out = tempfile.mktemp(suffix=".json")
        subprocess.run([args.cli, "bench", "--repeats", "15", "--json", out], check=True, stdout=subprocess.DEVNULL)
        for row in json.load(open(out)):
            keep(ours, (row["name"], row["operation"]), row["median"], max if row["unit"] == "GFLOP/s" else min)
        print(f"round {round + 1}/{args.rounds}: JAX", file=sys.stderr, flush=True)
        for case, op, value in jax_cases():
            keep(peer, (case, op), value, max if op.startswith("GFLOP/s") else min)
    print(f"CPU: {cpu_description()}")
    print(f"JAX-jit float64, {args.rounds} interleaved rounds, minimum of per-round medians (GFLOP/s: maximum)\n")
    print("| case | operation | here | peer | here / peer (time) |")
    print("| --- | --- | --- | --- | --- |")
    for (oc, oo), (pc, po) in PAIRS:
        o, p = ours.get((oc, oo)), peer.get((pc, po))
        if o is None or p is None:
            print(f"| {oc} | {oo} | {o if o is not None else '–'} | {p if p is not None else '–'} | – |")
            continue
        throughput = oo.startswith("GFLOP/s")
        unit = " GFLOP/s" if throughput else " µs"
        ratio = p / o if throughput else o / p
        label = oo if not throughput else f"{oo} vs {po.split(', ')[1]}"
        print(f"| {oc} | {label} | {o:.4g}{unit} | {p:.4g}{unit} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
