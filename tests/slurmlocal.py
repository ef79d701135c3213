#!/usr/bin/python3
"""A private single-node SLURM cluster on localhost, for the tests labelled
`slurm` (Debian's /usr/bin/python3, standard library only).

    import slurmlocal
    slurmlocal.ensure_installed()          # apt-get install slurm-wlm munge if missing
    with slurmlocal.SlurmCluster() as cl:  # or cl = SlurmCluster(); cl.start(); ... cl.stop()
        job = cl.sbatch(["--array=0-3", "--wrap", "hostname"], cwd=somewhere)
        cl.wait_jobs(job, timeout=60)
        subprocess.run(["squeue"], env=cl.env)

Everything lives in a fresh temporary folder (cl.root): a munge key, socket,
pid, log and seed file for a private munged; slurm.conf (cl.conf) with free
TCP ports, private state/spool folders, pid and log files; the daemons are run
in the foreground (munged -F, slurmctld -D, slurmd -D) as children of this
process, so their PIDs are known and stop() kills exactly them (SIGTERM, then
SIGKILL), plus the slurmstepd and job processes they left behind, which carry
the environment variable OXVAC_SLURMLOCAL_ID=<cl.root>. /etc/slurm, the system
munged and any other process are never touched. The folder is removed by
stop() unless OXVAC_KEEP_SLURM=1.

cl.env is os.environ plus SLURM_CONF=<cl.conf> (and the tag variable above):
pass it as env= to every sbatch/squeue/scontrol/scancel/sinfo call.
Accounting is off (accounting_storage/none), so sacct has no data; use
`scontrol show job` (finished jobs are kept MinJobAge=300 s) for exit codes.

Run as a script (`python3 tests/slurmlocal.py`) to start a cluster, print
sinfo and stop it again.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DAEMONS = ("slurmctld", "slurmd", "sbatch", "munged")
PACKAGES = ("slurm-wlm", "munge")
TAG = "OXVAC_SLURMLOCAL_ID"
KEEP_ENV = "OXVAC_KEEP_SLURM"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
            "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED"}


class SlurmError(RuntimeError):
    """The private cluster could not be installed, started or used."""


def _which(name):
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin")


def missing_programs():
    """The programs among slurmctld, slurmd, sbatch and munged not on PATH."""
    return [n for n in DAEMONS if _which(n) is None]


def ensure_installed():
    """Install slurm-wlm and munge with apt-get if a program is missing
    (needs root); raise SlurmError when that is impossible or fails."""
    missing = missing_programs()
    if not missing:
        return
    print("slurmlocal: missing %s; installing %s with apt-get"
          % (", ".join(missing), " ".join(PACKAGES)), flush=True)
    if os.geteuid() != 0:
        raise SlurmError("slurmlocal: %s missing and not root: install them with "
                         "`apt-get install --no-install-recommends %s`"
                         % (", ".join(missing), " ".join(PACKAGES)))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update"],
                ["apt-get", "install", "-y", "--no-install-recommends"] + list(PACKAGES)):
        print("slurmlocal: running " + " ".join(cmd), flush=True)
        try:
            r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, universal_newlines=True)
        except OSError as e:
            raise SlurmError("slurmlocal: cannot run %s: %s" % (" ".join(cmd), e))
        if r.returncode != 0:
            raise SlurmError("slurmlocal: `%s` failed (exit %d):\n%s"
                             % (" ".join(cmd), r.returncode, r.stdout[-3000:]))
    missing = missing_programs()
    if missing:
        raise SlurmError("slurmlocal: still missing after apt-get install: "
                         + ", ".join(missing))
    print("slurmlocal: installed " + " ".join(PACKAGES), flush=True)


def free_ports(n):
    """n distinct TCP ports that were free on localhost a moment ago."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _parent_death_signal():
    """A preexec_fn that makes the child get SIGTERM when this process dies
    (prctl PR_SET_PDEATHSIG), so a test killed by a ctest timeout leaves no
    daemons behind; None where that is unavailable."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec():
        prctl(1, int(signal.SIGTERM), 0, 0, 0)      # PR_SET_PDEATHSIG
        if os.getppid() != parent:                  # parent already gone
            os._exit(1)
    return preexec


def _tail(path, nchars=3000):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - nchars))
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(%s)" % e


def _alive(pid):
    """pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] not in ("Z", "X")


def _ancestors():
    """This process and its ancestors (never to be killed)."""
    out, pid = set(), os.getpid()
    while pid > 0 and pid not in out:
        out.add(pid)
        try:
            with open("/proc/%d/stat" % pid) as f:
                stat = f.read()
            pid = int(stat[stat.rfind(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return out


def _under(path, root):
    path = path[:-len(" (deleted)")] if path.endswith(" (deleted)") else path
    return path == root or path.startswith(root.rstrip("/") + "/")


def tagged_pids(root):
    """Live processes left by the cluster in folder root: those whose
    environment holds OXVAC_SLURMLOCAL_ID=root (job processes, and anything
    started with cluster.env), and slurmstepd processes whose working folder
    or an open file lies in root (slurmstepd clears its environment); this
    process and its ancestors excepted."""
    want = ("%s=%s" % (TAG, root)).encode()
    skip = _ancestors()
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) in skip:
            continue
        pid, mine = int(d), False
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                mine = want in f.read().split(b"\0")
            if not mine:
                with open("/proc/%d/comm" % pid) as f:
                    comm = f.read().strip()
                if comm == "slurmstepd":
                    links = [os.readlink("/proc/%d/cwd" % pid)]
                    fd_dir = "/proc/%d/fd" % pid
                    for fd in os.listdir(fd_dir):
                        try:
                            links.append(os.readlink(os.path.join(fd_dir, fd)))
                        except OSError:
                            pass
                    mine = any(_under(link, root) for link in links)
        except OSError:
            continue
        if mine and _alive(pid):
            out.append(pid)
    return out


class SlurmCluster:
    """A private slurmctld + slurmd (+ munged) on localhost; see the module
    doc. Attributes after start(): root (the temporary folder), conf (its
    slurm.conf), env (os.environ + SLURM_CONF), ports (ctld, slurmd),
    node (the NodeName=... line), pids (name -> PID of each daemon running,
    until stop()), started (name -> PID of each daemon started, kept after
    stop() for checks)."""

    def __init__(self, name="oxvac", start_timeout=60.0, keep=None, verbose=True):
        self.name = name
        self.start_timeout = start_timeout
        self.keep = os.environ.get(KEEP_ENV) == "1" if keep is None else keep
        self.verbose = verbose
        self.root = None
        self.conf = None
        self.env = None
        self.ports = None
        self.node = None
        self.procs = {}          # name -> Popen, in start order (emptied by stop())
        self.started = {}        # name -> PID of every daemon ever started (kept)
        self.logs = {}           # name -> [log files]
        self._files = []         # open stdout files of the daemons

    # ---- public ------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    @property
    def pids(self):
        return {n: p.pid for n, p in self.procs.items()}

    def start(self):
        """Write the configuration, start munged, slurmctld and slurmd and
        wait until the node is idle; on any failure stop what was started
        and raise SlurmError with the daemons' log tails."""
        if self.root is not None:
            raise SlurmError("slurmlocal: cluster already started")
        missing = missing_programs()
        if missing:
            raise SlurmError("slurmlocal: missing %s (call ensure_installed())"
                             % ", ".join(missing))
        t0 = time.time()
        try:
            self.root = tempfile.mkdtemp(prefix="oxvac-slurm-")
            os.chmod(self.root, 0o755)      # munged wants its socket reachable
            self.env = dict(os.environ)
            self.env[TAG] = self.root
            self._start_munge()
            self._write_conf()
            self.env["SLURM_CONF"] = self.conf
            self._spawn("slurmctld", [_which("slurmctld"), "-D", "-f", self.conf])
            self._spawn("slurmd", [_which("slurmd"), "-D", "-N", "localhost", "-f", self.conf])
            self._wait_idle()
        except BaseException as e:
            msg = str(e)
            if not isinstance(e, SlurmError):
                msg = "slurmlocal: start failed: %r" % (e,)
            report = msg + "\n" + self.log_tails()
            if not self.keep:
                report += "\n(set %s=1 to keep the cluster folder)" % KEEP_ENV
            self.stop()
            if isinstance(e, Exception):
                raise SlurmError(report) from e
            raise
        self._say("cluster up in %.1f s (%s, ports %d/%d)"
                  % (time.time() - t0, self.root, self.ports[0], self.ports[1]))
        return self

    def stop(self):
        """Kill every daemon started (and the slurmstepd/job processes they
        left), by PID: SIGTERM, then SIGKILL after a few seconds. Remove the
        folder unless keep. Safe to call more than once, or after a failed
        start."""
        self._cancel_jobs()
        procs = list(self.procs.items())[::-1]     # slurmd, slurmctld, munged
        for name, p in procs:
            self._terminate(p)
        if self.root is not None:
            self._kill_tagged()
        self.procs = {}
        for f in self._files:
            try:
                f.close()
            except OSError:
                pass
        self._files = []
        if self.root is not None:
            if self.keep:
                self._say("kept " + self.root)
            else:
                shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def run(self, args, check=True, timeout=60, **kw):
        """Run a SLURM client command (a list) with env; the CompletedProcess
        (text stdout/stderr). check: raise SlurmError on a nonzero exit."""
        r = subprocess.run(args, env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True,
                           timeout=timeout, **kw)
        if check and r.returncode != 0:
            raise SlurmError("slurmlocal: `%s` failed (exit %d):\n%s%s"
                             % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r

    def sbatch(self, args, cwd=None):
        """sbatch --parsable ARGS (a list); the job id as a string."""
        r = self.run(["sbatch", "--parsable"] + list(args), cwd=cwd)
        return r.stdout.strip().split(";")[0]

    def queued(self, job_id):
        """Lines 'ID STATE' of job_id (all array tasks) still in the queue,
        finished states left out."""
        jid = str(job_id).split(";")[0].strip()
        r = self.run(["squeue", "-h", "-r", "-j", jid, "-t", "all", "-o", "%i %T"], check=False)
        if r.returncode != 0:
            if "Invalid job id" in r.stderr:
                return []                       # purged already
            raise SlurmError("slurmlocal: squeue failed (exit %d): %s"
                             % (r.returncode, r.stderr.strip()))
        out = []
        for line in r.stdout.splitlines():
            w = line.split()
            if len(w) >= 2 and w[1].split("+")[0] not in TERMINAL:
                out.append(line.strip())
        return out

    def wait_jobs(self, job_id, timeout=60.0, poll=0.5):
        """Poll squeue until job_id (an id, or a list of ids; every array
        task included) has left the queue; raise SlurmError on timeout."""
        ids = [job_id] if isinstance(job_id, (str, int)) else list(job_id)
        deadline = time.time() + timeout
        while True:
            left = [line for j in ids for line in self.queued(j)]
            if not left:
                return
            if time.time() > deadline:
                raise SlurmError("slurmlocal: jobs %s still queued after %.0f s:\n%s\n%s"
                                 % (" ".join(map(str, ids)), timeout, "\n".join(left),
                                    self.log_tails()))
            time.sleep(poll)

    def log_tails(self, nchars=2000):
        """The last nchars of each daemon's log and stdout/stderr files."""
        parts = []
        for name, files in self.logs.items():
            for path in files:
                if os.path.exists(path) and os.path.getsize(path) > 0:
                    parts.append("---- %s: %s\n%s" % (name, path, _tail(path, nchars)))
        return "\n".join(parts)

    # ---- internals ---------------------------------------------------------

    def _say(self, msg):
        if self.verbose:
            print("slurmlocal: " + msg, flush=True)

    def _path(self, *parts):
        return os.path.join(self.root, *parts)

    def _spawn(self, name, argv, extra_logs=()):
        out = self._path("log", name + ".out")
        os.makedirs(os.path.dirname(out), exist_ok=True)
        f = open(out, "wb")
        self._files.append(f)
        self.logs[name] = self.logs.get(name, []) + list(extra_logs) + [out]
        try:
            p = subprocess.Popen(argv, env=self.env, stdin=subprocess.DEVNULL, stdout=f,
                                 stderr=subprocess.STDOUT, cwd=self.root,
                                 start_new_session=True,
                                 preexec_fn=_parent_death_signal())
        except OSError as e:
            raise SlurmError("slurmlocal: cannot start %s: %s" % (name, e))
        self.procs[name] = p
        self.started[name] = p.pid
        self._say("started %s (pid %d)" % (name, p.pid))
        return p

    def _check_running(self):
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise SlurmError("slurmlocal: %s exited early with status %s"
                                 % (name, p.returncode))

    def _start_munge(self):
        d = self._path("munge")
        os.makedirs(d)
        os.chmod(d, 0o755)                  # the key itself is 0600
        key = os.path.join(d, "munge.key")
        with open("/dev/urandom", "rb") as f:
            data = f.read(1024)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(key, 0o600)
        self.munge_socket = os.path.join(d, "munge.socket")
        log = os.path.join(d, "munged.log")
        self._spawn("munged", [_which("munged"), "-F", "-f",
                               "--key-file=" + key,
                               "--socket=" + self.munge_socket,
                               "--pid-file=" + os.path.join(d, "munged.pid"),
                               "--log-file=" + log,
                               "--seed-file=" + os.path.join(d, "munged.seed")],
                    extra_logs=[log])
        deadline = time.time() + 15
        while not os.path.exists(self.munge_socket):
            self._check_running()
            if time.time() > deadline:
                raise SlurmError("slurmlocal: munged socket %s did not appear"
                                 % self.munge_socket)
            time.sleep(0.05)

    def _node_line(self):
        """NodeName=localhost with the hardware of `slurmd -C`."""
        r = subprocess.run([_which("slurmd"), "-C"], env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, universal_newlines=True, timeout=30)
        fields = {}
        for line in r.stdout.splitlines():
            if line.startswith("NodeName="):
                for w in line.split():
                    k, _, v = w.partition("=")
                    fields[k] = v
        if r.returncode != 0 or "CPUs" not in fields:
            raise SlurmError("slurmlocal: `slurmd -C` gave no node line (exit %d):\n%s%s"
                             % (r.returncode, r.stdout, r.stderr))
        words = ["NodeName=localhost", "NodeAddr=127.0.0.1"]
        for k in ("CPUs", "Boards", "SocketsPerBoard", "CoresPerSocket", "ThreadsPerCore",
                  "RealMemory"):
            if k in fields:
                words.append("%s=%s" % (k, fields[k]))
        words.append("State=UNKNOWN")
        return " ".join(words)

    def _write_conf(self):
        for d in ("state", "spool", "log", "run"):
            os.makedirs(self._path(d), exist_ok=True)
        self.ports = free_ports(2)
        self.node = self._node_line()
        plugstack = self._path("plugstack.conf")
        open(plugstack, "w").close()
        log_ctld, log_d = self._path("log", "slurmctld.log"), self._path("log", "slurmd.log")
        lines = [
            "# private single-node cluster written by tests/slurmlocal.py",
            "ClusterName=%s" % self.name,
            "SlurmctldHost=localhost(127.0.0.1)",
            "SlurmctldPort=%d" % self.ports[0],
            "SlurmdPort=%d" % self.ports[1],
            "AuthType=auth/munge",
            "AuthInfo=socket=%s" % self.munge_socket,
            "CredType=cred/munge",
            "SlurmUser=root",
            "SlurmdUser=root",
            "StateSaveLocation=%s" % self._path("state"),
            "SlurmdSpoolDir=%s" % self._path("spool"),
            "SlurmctldPidFile=%s" % self._path("run", "slurmctld.pid"),
            "SlurmdPidFile=%s" % self._path("run", "slurmd.pid"),
            "SlurmctldLogFile=%s" % log_ctld,
            "SlurmdLogFile=%s" % log_d,
            "SlurmctldDebug=info",
            "SlurmdDebug=info",
            "PlugStackConfig=%s" % plugstack,
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "SchedulerType=sched/backfill",
            "SchedulerParameters=batch_sched_delay=0",   # start jobs without the 3 s delay
            "MailProg=/bin/true",
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "MpiDefault=none",
            "SwitchType=switch/none",
            "AccountingStorageType=accounting_storage/none",
            "JobAcctGatherType=jobacct_gather/none",
            "JobCompType=jobcomp/none",
            "ReturnToService=2",
            "SlurmctldTimeout=30",
            "SlurmdTimeout=30",
            "MessageTimeout=10",
            "InactiveLimit=0",
            "KillWait=2",
            "Waittime=0",
            "MinJobAge=300",
            "TmpFS=%s" % self._path("spool"),
            self.node,
            "PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf = self._path("slurm.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.logs["slurmctld"] = [log_ctld]
        self.logs["slurmd"] = [log_d]

    def _wait_idle(self):
        deadline = time.time() + self.start_timeout
        last = ""
        while True:
            self._check_running()
            try:
                r = self.run(["sinfo", "-h", "-N", "-n", "localhost", "-o", "%T"],
                             check=False, timeout=15)
                last = (r.stdout + r.stderr).strip()
                if r.returncode == 0 and r.stdout.strip().rstrip("*") == "idle":
                    return
            except subprocess.TimeoutExpired:
                last = "sinfo timed out"
            if time.time() > deadline:
                raise SlurmError("slurmlocal: node not idle after %.0f s (sinfo: %s)"
                                 % (self.start_timeout, last or "nothing"))
            time.sleep(0.25)

    def _terminate(self, p, grace=5.0):
        if p.poll() is not None:
            return
        try:
            p.send_signal(signal.SIGTERM)
        except OSError:
            pass
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            try:
                p.kill()
            except OSError:
                pass
            p.wait(10)

    def _cancel_jobs(self, timeout=10.0):
        """scancel every job still queued, while the daemons are up, and wait
        a little for them to go (their slurmstepd then exit cleanly)."""
        if not all(n in self.procs and self.procs[n].poll() is None
                   for n in ("munged", "slurmctld", "slurmd")):
            return
        try:
            deadline = time.time() + timeout
            cancelled = False
            while time.time() < deadline:
                r = self.run(["squeue", "-h", "-o", "%F"], check=False, timeout=10)
                ids = sorted(set(r.stdout.split()))
                if r.returncode != 0 or not ids:
                    return
                if not cancelled:
                    self._say("cancelling jobs " + " ".join(ids))
                    self.run(["scancel"] + ids, check=False, timeout=10)
                    cancelled = True
                time.sleep(0.25)
        except (OSError, subprocess.SubprocessError):
            pass

    def _kill_tagged(self, grace=3.0):
        pids = tagged_pids(self.root)
        if not pids:
            return
        self._say("killing leftover processes %s" % " ".join(map(str, pids)))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
            deadline = time.time() + grace
            while time.time() < deadline:
                pids = [p for p in pids if _alive(p)]
                if not pids:
                    return
                time.sleep(0.1)


def main():
    ensure_installed()
    with SlurmCluster() as cl:
        print("SLURM_CONF=" + cl.conf, flush=True)
        r = cl.run(["sinfo"], check=False)
        print(r.stdout + r.stderr, flush=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SlurmError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
