"""The local backend's verdicts, limits, inputs and batching, on real processes."""

from __future__ import annotations

import asyncio

import pytest

from r1_sandbox import Job, LocalSandbox, Status
from r1_sandbox.errors import BackendConfigError, UnsupportedLanguageError

ADD_CPP = """
#include <iostream>
int main() { long a, b; std::cin >> a >> b; std::cout << a + b << "\\n"; }
"""
ADD_C = '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}'
ADD_PY = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.mark.parametrize(("language", "code"), [("python", ADD_PY), ("cpp", ADD_CPP), ("c", ADD_C)])
def test_reads_stdin_and_answers(sandbox, language, code):
    result = sandbox.run_sync(code, language, stdin="40 2\n")
    assert result.status is Status.OK, result
    assert result.stdout == "42\n"
    assert result.exit_code == 0
    assert result.time_s > 0


@pytest.mark.parametrize(
    ("language", "code", "status"),
    [
        # Non-zero exit is RE, and the exit code comes back.
        ("python", "import sys; sys.exit(3)", Status.RE),
        ("cpp", "int main() { return 3; }", Status.RE),
        # An uncaught exception: RE with the traceback on stderr.
        ("python", "raise ValueError('boom')", Status.RE),
        # Syntax errors in compiled languages are CE, with the compiler's message.
        ("cpp", "int main() { return 0 }", Status.CE),
        ("c", "int main(void) { undefined_fn(); }", Status.CE),
        ("bash", "echo hi; exit 0", Status.OK),
    ],
)
def test_verdicts(sandbox, language, code, status):
    result = sandbox.run_sync(code, language)
    assert result.status is status, result
    if (status is Status.RE and "exit" in code) or "return 3" in code:
        assert result.exit_code == 3
    if status is Status.CE:
        assert "error" in result.message


def test_signal_death_is_reported_as_minus_signal(sandbox):
    result = sandbox.run_sync("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert result.status is Status.RE
    assert result.exit_code == -11
    assert "SIGSEGV" in result.message


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "while True: pass"),
        ("cpp", "int main() { volatile long x = 0; while (true) x++; }"),
        # Sleeping uses no CPU: only the wall-clock limit catches it.
        ("python", "import time; time.sleep(60)"),
    ],
)
def test_time_limit(sandbox, language, code):
    result = sandbox.run_sync(code, language, timeout=1.0)
    assert result.status is Status.TLE, result
    assert result.time_s < 8


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "x = bytearray(3 << 30)"),
        ("python", "xs = []\nwhile True: xs.append(bytearray(16 << 20))"),
        (
            "cpp",
            "#include <vector>\nint main() { std::vector<char> v(3UL << 30, 1); return v[5]; }",
        ),
    ],
)
def test_memory_limit(sandbox, language, code):
    result = sandbox.run_sync(code, language, memory_mb=256)
    assert result.status is Status.MLE, result


def test_small_programs_fit_in_the_memory_limit(sandbox):
    result = sandbox.run_sync("x = bytearray(100 << 20); print(len(x))", memory_mb=512)
    assert result.status is Status.OK, result
    # A 100 MB buffer is above the launcher's baseline, so its peak is measured.
    assert result.memory_mb is None or result.memory_mb >= 100


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("python", "while True: print('x' * 1000)"),
        (
            "cpp",
            '#include <cstdio>\nint main() { for (;;) std::fputs("flood flood flood\\n", stdout); }',
        ),
    ],
)
def test_output_flood_is_cut_off(language, code):
    box = LocalSandbox(concurrency=1, output_limit=64 << 10)
    try:
        result = box.run_sync(code, language, timeout=20)
    finally:
        box.close()
    assert result.status is Status.OLE, result
    assert len(result.stdout) <= 64 << 10
    # OLE, not TLE: cut at the cap, before the time limit (no wall-clock bound asserted).


def test_stderr_is_capped_but_not_a_verdict():
    box = LocalSandbox(concurrency=1, output_limit=1000)
    try:
        result = box.run_sync("import sys\nsys.stderr.write('e' * 100000)\nprint('done')")
    finally:
        box.close()
    assert result.status is Status.OK
    assert result.stdout == "done\n"
    assert len(result.stderr) == 1000


def test_large_stdin_and_stdout_round_trip(sandbox):
    data = "".join(f"{i}\n" for i in range(200_000))  # ~1.3 MB, more than a pipe holds
    code = "import sys\nprint(sum(int(x) for x in sys.stdin))"
    result = sandbox.run_sync(code, stdin=data)
    assert result.status is Status.OK, result
    assert result.stdout == f"{sum(range(200_000))}\n"


def test_program_that_ignores_stdin_is_fine(sandbox):
    result = sandbox.run_sync("print('no read')", stdin="x" * (1 << 20))
    assert result.status is Status.OK
    assert result.stdout == "no read\n"


def test_extra_files_are_writable_copies_in_the_cwd(sandbox):
    code = (
        "import os\n"
        "print(open('data/in.txt').read().strip())\n"
        "open('data/in.txt', 'w').write('changed')\n"
        "print(open('data/in.txt').read(), os.getcwd())\n"
    )
    result = sandbox.run_sync(code, files={"data/in.txt": "hello"})
    assert result.status is Status.OK, result
    assert result.stdout == "hello\nchanged /sandbox\n"


def test_each_run_gets_a_fresh_scratch_directory(sandbox):
    write = "open('left.txt', 'w').write('x'); open('/tmp/left.txt', 'w').write('x')"
    check = "import os; print(os.path.exists('left.txt'), os.path.exists('/tmp/left.txt'))"
    assert sandbox.run_sync(write).status is Status.OK
    assert sandbox.run_sync(check).stdout == "False False\n"


def test_compiles_once_for_many_inputs(sandbox, monkeypatch):
    calls = []
    real = sandbox.build

    async def counting(sources, language="cpp", flags=None, **kwargs):
        calls.append(language)
        return await real(sources, language, flags, **kwargs)

    monkeypatch.setattr(sandbox, "build", counting)
    stdins = [f"{i} {i}\n" for i in range(6)]
    results = sandbox.run_inputs_sync(ADD_CPP, stdins, language="cpp")
    assert [r.stdout for r in results] == [f"{2 * i}\n" for i in range(6)]
    assert len(calls) == 1

    # run_batch groups jobs that share a program, in any order, and keeps the order.
    calls.clear()
    jobs = [
        Job(ADD_CPP, "cpp", "1 1"),
        Job(ADD_PY, "python", "2 2"),
        Job(ADD_CPP, "cpp", "3 3"),
        Job(ADD_C, "c", "4 4"),
        Job(ADD_CPP, "cpp", "5 5"),
    ]
    results = sandbox.run_batch_sync(jobs)
    assert [r.stdout for r in results] == ["2\n", "4\n", "6\n", "8\n", "10\n"]
    assert calls == ["cpp"]  # one build for the three C++ jobs; the lone C job runs alone


def test_compile_error_answers_every_input(sandbox):
    results = sandbox.run_inputs_sync("int main( {", ["1", "2"], language="cpp")
    assert [r.status for r in results] == [Status.CE, Status.CE]


def test_batch_keeps_order_under_concurrency(sandbox):
    jobs = [Job(f"import time; time.sleep({(7 - i) % 4 * 0.05}); print({i})") for i in range(16)]
    results = sandbox.run_batch_sync(jobs)
    assert [r.stdout for r in results] == [f"{i}\n" for i in range(16)]


def test_sync_twin_works_inside_a_running_loop(sandbox):
    async def caller():
        return sandbox.run_sync("print('from a loop')")

    assert asyncio.run(caller()).stdout == "from a loop\n"


def test_async_api(sandbox):
    async def main():
        one = await sandbox.run("print(6 * 7)")
        many = await sandbox.run_inputs("print(input()[::-1])", ["abc", "xy"], language="python")
        return one, many

    one, many = asyncio.run(main())
    assert one.stdout == "42\n"
    assert [r.stdout for r in many] == ["cba\n", "yx\n"]


def test_bad_requests_are_errors_that_name_the_field(sandbox):
    with pytest.raises(UnsupportedLanguageError, match="cobol"):
        sandbox.run_sync("x", "cobol")
    with pytest.raises(BackendConfigError, match="timeout=0"):
        Job("x", timeout=0)
    with pytest.raises(BackendConfigError, match="relative path"):
        Job("x", files={"../escape": "x"})
    with pytest.raises(BackendConfigError, match="isolation='maybe'"):
        LocalSandbox(isolation="maybe")  # type: ignore[arg-type]


def test_unicode_and_bad_bytes(sandbox):
    result = sandbox.run_sync(
        "import sys; print('héllo ✓'); sys.stdout.flush(); sys.stdout.buffer.write(b'\\xff\\n')"
    )
    assert result.stdout == "héllo ✓\n\ufffd\n"


WARM_VS_COLD = [
    ("print(__name__, input())", "x\n"),
    ("import sys; print(sys.argv); sys.exit(7)", ""),
    ("def f():\n    raise KeyError('k')\nf()", ""),
    ("x = (", ""),
    ("import os; print(os.getcwd(), sorted(os.environ))", ""),
]


@pytest.mark.parametrize(("code", "stdin"), WARM_VS_COLD)
def test_warm_spares_run_programs_as_a_cold_start_does(sandbox, code, stdin):
    cold = LocalSandbox(concurrency=1, warm_python=0)
    try:
        expected = cold.run_sync(code, stdin=stdin)
    finally:
        cold.close()
    got = sandbox.run_sync(code, stdin=stdin)
    assert (got.status, got.exit_code, got.stdout) == (
        expected.status,
        expected.exit_code,
        expected.stdout,
    )
    # Tracebacks name the same file and line, without the loader's frames.
    assert got.stderr.splitlines()[-1:] == expected.stderr.splitlines()[-1:]
    assert "_r1_" not in got.stderr
