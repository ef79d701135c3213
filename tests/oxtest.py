"""Shared plumbing of the Python test drivers (tests/test_*.py).

  - parser() / parse_args(): the common options --oxvac, --mpiexec, --keep and
    --timeout (each script adds its own options to the parser in between);
  - launcher(): an --mpiexec value as a list of words (";" separates words as
    spaces do, so a CMake list such as "mpiexec;--oversubscribe;-n;2" works);
  - run(): run a command, never raise; run_oxvac(): run oxvac (under the
    launcher) and return the CompletedProcess, or print the failure with the
    command and exit 1;
  - workdir(): the --keep folder, or a temporary folder removed afterwards;
  - Checker: check(ok, what) bookkeeping and the final exit code;
  - main(): a script's checks in its work folder, to the exit code;
  - case_header() and the *_LINE_RE forms: the hostile-input corpus
    (tests/bad_inputs/README.md) and its messages (docs/interface.md section 8).

The scripts are run as `python3 tests/test_x.py`, so tests/ is on sys.path and
`import oxtest` finds this file.
"""
import argparse
import struct
import zlib
import contextlib
import os
import re
import shlex
import subprocess
import sys
import tempfile

TAIL = 3000          # characters of stdout and of stderr shown for a failed run

MPIEXEC_HELP = ('launcher prefix, e.g. "mpiexec -n 2" (";" also separates words, '
                'as in a CMake list)')


def parser(doc=None, mpiexec=True, mpiexec_required=False, mpiexec_help=MPIEXEC_HELP,
           keep=True, keep_help="write the config and result here and keep them",
           timeout=600.0):
    """An ArgumentParser with --oxvac and, as asked, --mpiexec, --keep and
    --timeout (seconds per run; timeout=None leaves the option out and runs
    without a limit). The description is the first line of doc."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0] if doc else None)
    ap.add_argument("--oxvac", required=True, help="path to the oxvac executable")
    if mpiexec:
        ap.add_argument("--mpiexec", required=mpiexec_required,
                        default=None if mpiexec_required else "", help=mpiexec_help)
    if keep:
        ap.add_argument("--keep", help=keep_help)
    if timeout is not None:
        ap.add_argument("--timeout", type=float, default=timeout, help="seconds per run")
    return ap


def parse_args(ap, argv=None):
    """Parse, and make --oxvac absolute (the runs may change directory)."""
    args = ap.parse_args(argv)
    args.oxvac = os.path.abspath(args.oxvac)
    return args


def launcher(mpiexec):
    """The words of a launcher given as a string (spaces or ";" between words)
    or already as a list; [] for none."""
    if isinstance(mpiexec, (list, tuple)):
        return list(mpiexec)
    return shlex.split((mpiexec or "").replace(";", " "))


def run(cmd, timeout=None, cwd=None):
    """Run cmd capturing text output. Never raises: where the command cannot
    start or runs past timeout, returncode is None and stderr says why."""
    try:
        # errors="replace": a message that echoes bytes of a binary input is still text
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as e:
        return subprocess.CompletedProcess(cmd, None, "", str(e))


def run_oxvac(args, argv, mpiexec=None, cwd=None, label=""):
    """Run `LAUNCHER args.oxvac ARGV` and return the CompletedProcess (its .args
    is the command). LAUNCHER is args.mpiexec unless mpiexec is given ("" for
    a plain serial run, or a string or list as launcher() takes). args.timeout
    (where the script has it) limits the run. Where the run fails, print
    `FAIL<label>: why`, its output tail and the command, and exit 1."""
    if mpiexec is None:
        mpiexec = getattr(args, "mpiexec", "")
    cmd = launcher(mpiexec) + [args.oxvac] + list(argv)
    p = run(cmd, timeout=getattr(args, "timeout", None), cwd=cwd)
    if p.returncode != 0:
        why = p.stderr if p.returncode is None else \
            f"exit status {p.returncode}\n{p.stdout[-TAIL:]}{p.stderr[-TAIL:]}"
        print(f"FAIL{label}: {why}\n  command: {shlex.join(cmd)}")
        sys.exit(1)
    return p


def kill_when_exists(cmd, path, timeout=60.0):
    """Start cmd in its own session, SIGKILL its group as soon as path exists
    (or it ends, or timeout seconds pass), and wait for it."""
    import signal
    import time
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    t0 = time.time()
    while not os.path.exists(path) and proc.poll() is None and time.time() - t0 < timeout:
        time.sleep(0.05)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def workdir(keep=None, prefix="oxvac_test_"):
    """Yield the folder to work in: keep (created if need be, left in place) or
    a fresh temporary folder, removed on the way out (also on sys.exit)."""
    if keep:
        os.makedirs(keep, exist_ok=True)
        yield keep
    else:
        with tempfile.TemporaryDirectory(prefix=prefix) as d:
            yield d


class Checker:
    """Counts checks and remembers whether any failed.

    check(ok, what, cmd, out, err) prints `FAIL: what` (with the command and the
    tails of its output, where given) when ok is false, and `ok    what` when
    verbose; it returns ok. Commands appended to .commands are printed once
    more by exit_code() where anything failed."""

    def __init__(self, name, verbose=False):
        self.name = name
        self.verbose = verbose
        self.ok = True
        self.count = 0
        self.commands = []

    def check(self, ok, what, cmd=None, out="", err=""):
        self.count += 1
        if ok:
            if self.verbose:
                print("ok    " + what)
            return ok
        self.ok = False
        print("FAIL: " + what)
        if cmd:
            print(f"  command: {shlex.join(cmd)}")
        if out:
            print("  stdout: " + out[-1500:].rstrip().replace("\n", "\n          "))
        if err:
            print("  stderr: " + err[-1500:].rstrip().replace("\n", "\n          "))
        return ok

    def fail(self, what, cmd=None):
        return self.check(False, what, cmd)

    def exit_code(self, summary=""):
        """Print the commands (where something failed) and `NAME: [summary: ]
        PASSED|FAILED`; return the exit status, 0 or 1."""
        if not self.ok:
            for cmd in self.commands:
                print(f"  command: {shlex.join(cmd)}")
        print(f"{self.name}:{' ' + summary + ':' if summary else ''}",
              "PASSED" if self.ok else "FAILED")
        return 0 if self.ok else 1


def main(name, args, checks, verbose=False):
    """Call checks(args, workdir, checker) with a Checker(name, verbose) in
    workdir(args.keep, "oxvac_<name without test_>_"); print the verdict and
    return the exit status."""
    c = Checker(name, verbose)
    prefix = "oxvac_" + name.removeprefix("test_") + "_"
    with workdir(getattr(args, "keep", None), prefix) as d:
        checks(args, d, c)
    return c.exit_code()


def png_info(path):
    """(width, height, (ppu_x, ppu_y, unit) or None) of a PNG from its IHDR and pHYs
    chunks, CRCs checked (the figure tests check 300 dpi with it)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos, size, phys = 8, None, None
    while pos + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])[0]:
            return None
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"pHYs":
            phys = struct.unpack(">IIB", body)
        elif kind == b"IEND":
            break
        pos += 12 + n
    return (size[0], size[1], phys) if size else None


def as_str(v):
    """An HDF5 string attribute or scalar string dataset as str (None if it is not one)."""
    import numpy as np
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, np.ndarray) and v.dtype.kind in "SUO" and v.size == 1:
        return as_str(v.reshape(-1)[0])
    return v if isinstance(v, str) else None


# Input-error messages (docs/interface.md section 8): a config key or syntax
# error at FILE:LINE, and a damaged checkpoint named with its dataset.
KEY_LINE_RE = re.compile(r"^[^:\n]+:[0-9]+: key '[^']+': .+; .+")
SYNTAX_LINE_RE = re.compile(r"^[^:\n]+:[0-9]+: syntax error: .+; .+")
CKPT_LINE_RE = re.compile(r"^(?P<file>.+?): (?:file|dataset '/[^']*'(?: attribute '[^']+')?): .+; expected .+")

# The keys of a corpus case's header (tests/bad_inputs/README.md).
CASE_KEYS = ("expect", "status", "stage", "defect", "restart", "output", "known-defect")


def case_header(path):
    """The header of a hostile-input case (tests/bad_inputs/README.md): the
    `# KEY: VALUE` lines (KEY one of CASE_KEYS) among the file's leading
    comment lines, or among those of PATH.expect where that exists (a case that
    cannot hold comments: empty, binary). A dict of KEY to VALUE ("" for a bare
    `# KEY:`); {} when there is none."""
    src = path + ".expect" if os.path.exists(path + ".expect") else path
    with open(src, "rb") as f:
        text = f.read().decode("utf-8", errors="replace")
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark
    head = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        m = re.match(r"#\s*([a-z-]+):(.*)$", line)
        if m and m.group(1) in CASE_KEYS:
            head[m.group(1)] = m.group(2).strip()
    return head
