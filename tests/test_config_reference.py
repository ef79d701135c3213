#!/usr/bin/python3
"""docs/config-reference.md is generated from the key table, and it documents
exactly the keys the parser accepts, with the parser's defaults and bounds.

--case doc (test_config_reference_is_generated):
  - `oxvac help config --markdown` exits 0 and equals docs/config-reference.md
    byte for byte (on a difference: the diff, and the command that rewrites it);
    its first line says it is generated and not to be edited by hand;
  - `oxvac help config` exits 0 and lists the same keys; a bad argument exits 2.
--case keys (test_config_reference_covers_parser): the keys the parser accepts
  are found without the key table, from what oxvac prints and says:
  - the resolved configs `oxvac check` prints for configs of every variant
    (tests/data/full.cfg; a sphere with and without centre, domain_um instead of
    shape; generated; each accessibility model; every step type in formation and
    cycling; an import of a small run's own result), read into dotted paths
    (list elements as `[]`);
  - the names the parser lists in its "unknown key; expected one of ..." message
    for every group of those configs, and for every value of every choice key of
    the group (the keys of an "import" microstructure, of a "depth" model, of a
    "hold" step, ...);
  every such key is a key of the doc, and every key of the doc is one of them.
  Unknown keys are refused with exit 2 and a message naming them. The doc's
  defaults are what `oxvac check` prints for configs that leave the key out; the
  doc's bounds are the reader's: for each number or integer key, a value beyond
  each bound is refused naming the key, and a closed bound itself is not.
--case set (test_set_table_member): `--set TABLE.value=[...]` changes only the
  values of a table (the soc knots stay, the default ones when the file has no
  such table) and `--set TABLE.soc=[...]` only its knots, for every table of the
  doc; a value array of another length than the knots is refused naming it.

usage: test_config_reference.py --oxvac PATH [--case doc|keys|set|all]
                                [--doc docs/config-reference.md] [--data-dir tests/data]
       test_config_reference.py --oxvac PATH --write docs/config-reference.md
       (rewrites the doc from the key table: `cmake --build build --target config-reference`)
Exit status 0 if every check passes, 1 otherwise.
"""
import concurrent.futures
import difflib
import os
import re
import shlex
import sys

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
REGENERATE = "cmake --build build --target config-reference"
KEY_RE = re.compile(r"^(?P<where>[^:\n]+:[0-9]+): key '(?P<key>[^']+)': (?P<what>.+); (?P<expected>.+)$")
PROBE = "zzzzqq"  # a key name and a choice value that nothing is near

# ---------------------------------------------------------------------------
# Reading libconfig text (the resolved config oxvac check prints, a default)
# ---------------------------------------------------------------------------

TOKEN_RE = re.compile(r"""
    (?P<space>\s+|\#[^\n]*|//[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)L?)
  | (?P<name>[A-Za-z*][-A-Za-z0-9_*]*)
  | (?P<punct>[=:;,{}()\[\]])
""", re.VERBOSE)


def tokens(text):
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise ValueError(f"cannot read {text[pos:pos + 20]!r}")
        pos = m.end()
        if m.lastgroup != "space":
            out.append((m.lastgroup, m.group()))
    return out


class Reader:
    """Settings, groups (dict), lists ('list', [...]), arrays ('array', [...])."""

    def __init__(self, text):
        self.t = tokens(text)
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, want=None):
        tok = self.peek()
        if want is not None and tok[1] != want:
            raise ValueError(f"expected {want!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def settings(self, end):
        group = {}
        while self.peek()[1] != end:
            kind, name = self.take()
            if kind != "name":
                raise ValueError(f"expected a name, got {name!r}")
            if self.peek()[1] in ("=", ":"):
                self.take()
            group[name] = self.value()
            if self.peek()[1] in (";", ","):
                self.take()
        return group

    def elements(self, end):
        out = []
        while self.peek()[1] != end:
            out.append(self.value())
            if self.peek()[1] == ",":
                self.take()
        self.take(end)
        return out

    def value(self):
        kind, text = self.take()
        if text == "{":
            g = self.settings("}")
            self.take("}")
            return g
        if text == "(":
            return ("list", self.elements(")"))
        if text == "[":
            return ("array", self.elements("]"))
        if kind == "string":
            return bytes(text[1:-1], "utf-8").decode("unicode_escape")
        if kind == "number":
            t = text.rstrip("L")
            return float(t) if re.search(r"[.eE]", t) and not t.lower().startswith("0x") else int(t, 0)
        if kind == "name" and text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ValueError(f"unexpected {text!r}")


def read_config(text):
    r = Reader(text)
    g = r.settings(None)
    return g


def read_value(text):
    return Reader(text).value()


def walk(group, prefix=""):
    """(normalized path, concrete path, value) of every setting, groups included;
    elements of a list of groups are `[]` (concrete: `[N]`)."""
    for name, v in group.items():
        norm = f"{prefix[0]}.{name}" if prefix else name
        conc = f"{prefix[1]}.{name}" if prefix else name
        yield norm, conc, v
        if isinstance(v, dict):
            yield from walk(v, (norm, conc))
        elif isinstance(v, tuple) and v[0] == "list":
            for i, e in enumerate(v[1]):
                if isinstance(e, dict):
                    yield from walk(e, (norm + ".[]", f"{conc}.[{i}]"))


def group_of(path):
    """The group holding path ("" for the top level); an element's group is `L.[]`."""
    return path.rsplit(".", 1)[0] if "." in path else ""


# ---------------------------------------------------------------------------
# The doc
# ---------------------------------------------------------------------------

ROW_RE = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<type>[^|]+) \| (?P<unit>[^|]+) \| (?P<default>[^|]+) "
                    r"\| (?P<allowed>[^|]+) \| (?P<meaning>.+) \|$")
SECTION_RE = re.compile(r"^## `(?P<key>[^`]+)`$")


def doc_keys(text):
    """{path: row dict} of the doc's tables; sections are keys with type 'section'."""
    keys = {}
    for line in text.splitlines():
        m = ROW_RE.match(line)
        if m and m["key"] != "Key":
            keys[m["key"]] = {k: v.strip() for k, v in m.groupdict().items()}
        m = SECTION_RE.match(line)
        if m:
            keys[m["key"]] = {"key": m["key"], "type": "section", "default": "-", "allowed": "-"}
    return keys


def literal_default(row):
    d = row["default"]
    return d[1:-1] if d.startswith("`") and d.endswith("`") else None


BOUND_RE = re.compile(r"^(?:(?P<op>>=|>|<=|<) (?P<v>[-+0-9.eE]+)|in (?P<lb>[\[(])(?P<lo>[-+0-9.eE]+), "
                      r"(?P<hi>[-+0-9.eE]+)(?P<rb>[\])]))")


def bounds(row):
    """[(value, closed, side)] of the row's Allowed text: side -1 lower, +1 upper."""
    m = BOUND_RE.match(row["allowed"])
    if not m:
        return []
    if m["op"]:
        v = float(m["v"])
        return [(v, "=" in m["op"], -1 if ">" in m["op"] else 1)]
    return [(float(m["lo"]), m["lb"] == "[", -1), (float(m["hi"]), m["rb"] == "]", 1)]


# ---------------------------------------------------------------------------
# Running oxvac
# ---------------------------------------------------------------------------

class Oxvac:
    def __init__(self, exe, timeout, jobs):
        self.exe, self.timeout, self.jobs = exe, timeout, jobs

    def __call__(self, argv, cwd=None):
        p = oxtest.run([self.exe] + list(argv), timeout=self.timeout, cwd=cwd)
        return p.args, p.returncode, p.stdout, p.stderr

    def check(self, cfg, sets=()):
        argv = ["check", cfg]
        for s in sets:
            argv += ["--set", s]
        return self(argv)

    def many(self, calls):
        """check(cfg, sets) for each (cfg, sets), in parallel; results in order."""
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            return list(pool.map(lambda cs: self.check(*cs), calls))


def message(err):
    """The first `WHERE:LINE: key 'K': what; expected` line of stderr, as a match, or None."""
    for line in err.splitlines():
        m = KEY_RE.match(line)
        if m:
            return m
    return None


def normalized(path):
    """path with its list indices written `[]`."""
    return re.sub(r"\[\d+\]", "[]", path)


def expected_names(err, group):
    """The names listed by "key 'G.zzzzqq': unknown key...; expected one of a, b" (G a
    normalized group path, "" the top level), or None."""
    m = message(err)
    want = f"{group}.{PROBE}" if group else PROBE
    if not m or normalized(m["key"]) != want or not m["what"].startswith("unknown key"):
        return None
    e = re.match(r"expected one of (.*)$", m["expected"])
    return [n.strip() for n in e.group(1).split(",")] if e else None


def choices_of(err, key):
    """The choices listed by "key 'K': unknown value "zzzzqq"; expected one of "a", "b"", or None."""
    for line in err.splitlines():
        m = KEY_RE.match(line)
        if m and m["key"] == key and m["what"].startswith(f'unknown value "{PROBE}"'):
            return re.findall(r'"([^"]*)"', m["expected"])
    return None


# ---------------------------------------------------------------------------
# The configs whose resolved print shows every variant
# ---------------------------------------------------------------------------

# Only required keys: every other key of these configs takes its default.
REQUIRED_ONLY = """grid = { voxel_nm = 20.0; shape = [16, 16, 16]; };
microstructure = { type = "sphere"; radius_nm = 100.0; };
protocol = {
  formation = { steps = ( { type = "cv"; duration_min = 1.0; until_soc = 0.0; },
                          { type = "rest"; duration_min = 1.0; } ); };
  cycling = { steps = (
    { type = "cc"; rate_C = 1.0; until_soc = 0.9; },
    { type = "cv"; duration_min = 10.0; until_soc = 1.0; },
    { type = "rest"; duration_min = 5.0; },
    { type = "hold"; soc = 0.5; duration_h = 1.0; },
    { type = "cc"; rate_C = -1.0; until_soc = 0.0; } ); };
};
"""
ALL_STEPS = ('( { type = "cc"; rate_C = 1.0; until_soc = 1.0; }, '
             '{ type = "cv"; duration_min = 1.0; until_soc = 1.0; }, '
             '{ type = "rest"; duration_min = 1.0; }, { type = "hold"; soc = 0.5; duration_h = 1.0; }, '
             '{ type = "cc"; rate_C = -1.0; until_soc = 0.0; } )')
GENERATED = ('microstructure={ type = "generated"; '
             'secondaries = ( { center_um = [0.16, 0.16, 0.16]; radius_um = 0.12; } ); }')
SMALL_RUN = """grid = { voxel_nm = 20.0; shape = [8, 8, 8]; };
microstructure = { type = "sphere"; radius_nm = 60.0; };
protocol = { cycling = { steps = ( { type = "rest"; duration_min = 1.0e-6; } ); }; };
output = { fields_at_cycles = []; checkpoint_every_cycles = 0; };
"""


def variant_configs(data_dir, workdir, ox, c):
    """[(name, cfg, sets, defaults_only, given)]: defaults_only when every key
    not in `given` (normalized paths) is at its default."""
    full = os.path.join(data_dir, "full.cfg")
    req = os.path.join(workdir, "required_only.cfg")
    with open(req, "w") as f:
        f.write(REQUIRED_ONLY)
    configs = [
        ("full.cfg", full, [], False, set()),
        ("full.cfg, all step types", full, [f"protocol.formation.steps={ALL_STEPS}",
                                            f"protocol.cycling.steps={ALL_STEPS}"], False, set()),
        ("full.cfg, mn3_field", full, ["observables.mn3_field=true"], False, set()),
        ("required keys only (sphere)", req, [], True, set()),
        ("sphere with centre", req, ["microstructure.center_nm=[150.0, 160.0, 170.0]"], False, set()),
        ("domain_um", req, ["grid={ voxel_nm = 20.0; domain_um = [0.3, 0.32, 0.34]; }"], True, set()),
        ("generated", req, [GENERATED], True, set()),
        ("depth accessibility", req, ['surface.accessibility={ model = "depth"; }'], True,
         {"surface.accessibility.model"}),
        ("connected accessibility", req, ['surface.accessibility={ model = "connected"; }'], True,
         {"surface.accessibility.model"}),
    ]
    # An import needs a labelled image: the small run's own result.
    run_cfg = os.path.join(workdir, "small_run.cfg")
    with open(run_cfg, "w") as f:
        f.write(SMALL_RUN)
    run_h5 = os.path.join(workdir, "small_run.h5")
    cmd, rc, out, err = ox(["run", run_cfg, "-o", run_h5, "--quiet"], cwd=workdir)
    if c.check(rc == 0 and os.path.isfile(run_h5), "a small run writes the image to import", cmd, out, err):
        configs.append(("import", req, [f'microstructure={{ type = "import"; file = "{run_h5}"; '
                                        'labels = "/geometry/labels"; }', "grid={ }"], True,
                        {"microstructure.labels"}))
    return configs


# ---------------------------------------------------------------------------
# --case doc
# ---------------------------------------------------------------------------

def case_doc(args, ox, c):
    cmd, rc, out, err = ox(["help", "config", "--markdown"])
    if not c.check(rc == 0 and out, f"help config --markdown: exit status {rc}", cmd, out, err):
        return
    with open(args.doc, encoding="utf-8", newline="") as f:
        doc = f.read()
    same = out == doc
    diff = "".join(difflib.unified_diff(doc.splitlines(True), out.splitlines(True),
                                        args.doc, "oxvac help config --markdown"))
    c.check(same, f"{args.doc} differs from `oxvac help config --markdown`; regenerate it with "
            f"`{REGENERATE}` (or {os.path.basename(__file__)} --write):\n{diff[:4000]}", cmd)
    first = doc.splitlines()[0] if doc else ""
    c.check("generated by `oxvac help config --markdown`" in first.lower().replace("_", "")
            and "do not edit" in first.lower(),
            f"the doc's first line does not say it is generated and not to be edited: {first!r}")
    keys = doc_keys(out)
    c.check(len(keys) > 50, f"only {len(keys)} keys in the markdown", cmd)
    print(f"{'ok  ' if same else 'FAIL'} docs/config-reference.md is `oxvac help config --markdown` "
          f"({len(doc)} bytes, {len(keys)} keys)")

    cmd, rc, text, err = ox(["help", "config"])
    listed = set()
    for line in text.splitlines():
        m = re.match(r"^  (\S+)(?: = .*)?$", line) or re.match(r"^(\w+): ", line)
        if m:
            listed.add(m.group(1))
    good = (c.check(rc == 0, f"help config: exit status {rc}", cmd, text, err)
            & c.check(listed == set(keys), "help config lists other keys than the markdown: "
                      f"only in text {sorted(listed - set(keys))}, only in markdown "
                      f"{sorted(set(keys) - listed)}", cmd))
    print(f"{'ok  ' if good else 'FAIL'} oxvac help config: exit 0, the same {len(listed)} keys")
    for bad in (["help", "config", "--bogus"], ["help", "config", "--markdown", "x"]):
        cmd, rc, out, err = ox(bad)
        good = c.check(rc == 2 and "usage" in err, f"{shlex.join(bad)}: exit status {rc}, expected 2 "
                       "with a usage line", cmd, out, err)
        print(f"{'ok  ' if good else 'FAIL'} oxvac {shlex.join(bad)}: exit 2")


# ---------------------------------------------------------------------------
# --case keys
# ---------------------------------------------------------------------------

def element_set(group_conc, group_norm, body):
    """A --set that replaces the group (a list element: the whole list) with { body }."""
    if group_norm.endswith(".[]"):
        return f"{group_norm[:-3]}=( {{ {body} }} )"
    return f"{group_conc}={{ {body} }}" if group_conc else None


def case_keys(args, ox, c, workdir):
    with open(args.doc, encoding="utf-8") as f:
        doc = doc_keys(f.read())
    configs = variant_configs(args.data_dir, workdir, ox, c)
    printed = {}  # name -> (cfg, sets, defaults_only, given, parsed)
    for (name, cfg, sets, defaults_only, given), (cmd, rc, out, err) in zip(
            configs, ox.many([(cfg, sets) for _, cfg, sets, _, _ in configs])):
        if not c.check(rc == 0, f"check ({name}): exit status {rc}", cmd, out, err):
            continue
        try:
            parsed = read_config(out)
        except ValueError as e:
            c.fail(f"check ({name}): the resolved config does not read: {e}", cmd)
            continue
        printed[name] = (cfg, sets, defaults_only, given, parsed)

    # Accepted keys, 1: every setting of every resolved config.
    accepted = {}  # normalized path -> where it was seen
    groups = {}    # normalized group path -> (config name, concrete path, printed member names)
    strings = {}   # (config name, concrete path of a string key) -> normalized
    for name, (cfg, sets, _, _, parsed) in printed.items():
        for norm, conc, v in walk(parsed):
            accepted.setdefault(norm, f"printed by check ({name})")
            if isinstance(v, dict):
                groups.setdefault((norm, frozenset(v)), (name, conc))
            elif isinstance(v, tuple) and v[0] == "list":
                for i, e in enumerate(v[1]):
                    if isinstance(e, dict):
                        groups.setdefault((norm + ".[]", frozenset(e)), (name, f"{conc}.[{i}]"))
            elif isinstance(v, str):
                strings.setdefault(norm, (name, conc))
        groups.setdefault(("", frozenset(parsed)), (name, ""))

    # Accepted keys, 2: what the parser lists for an unknown key in each group ...
    probes = []
    for (gnorm, _), (name, gconc) in sorted(groups.items()):
        cfg, sets = printed[name][:2]
        leaf = f"{gconc}.{PROBE}" if gconc else PROBE
        probes.append((gnorm, f"group {gnorm or '(top level)'} of {name}", cfg, sets + [f"{leaf}=1"]))
    # ... and, for every value of every choice key, in the group with that value.
    choice_calls = [(printed[name][0], printed[name][1] + [f'{conc}="{PROBE}"'])
                    for norm, (name, conc) in sorted(strings.items())]
    choices = {}
    for (norm, (name, conc)), (cmd, rc, out, err) in zip(sorted(strings.items()), ox.many(choice_calls)):
        found = choices_of(err, conc)
        if found:
            choices[norm] = (name, conc, found)
    for norm, (name, conc, found) in sorted(choices.items()):
        cfg, sets = printed[name][:2]
        gnorm, gconc, key = group_of(norm), group_of(conc), norm.rsplit(".", 1)[-1]
        for value in found:
            s = element_set(gconc, gnorm, f'{key} = "{value}"; {PROBE} = 1;')
            if s:
                probes.append((gnorm, f"group {gnorm} with {key} = \"{value}\"", cfg, sets + [s]))
    for (gnorm, what, cfg, sets), (cmd, rc, out, err) in zip(probes, ox.many([(p[2], p[3]) for p in probes])):
        names = expected_names(err, gnorm)
        if c.check(rc == 2 and names, f"{what}: an unknown key is not refused with the list of valid "
                   "names", cmd, out, err):
            for n in names:
                accepted.setdefault(f"{gnorm}.{n}" if gnorm else n, what)
    print(f"ok   {len(accepted)} keys accepted by the parser ({len(printed)} resolved configs, "
          f"{len(probes)} unknown-key probes, {len(choices)} choice keys: "
          f"{', '.join(sorted(choices))})")

    missing = sorted(k for k in accepted if k not in doc)
    c.check(not missing, "keys the parser accepts are missing from docs/config-reference.md:\n  "
            + "\n  ".join(f"{k} ({accepted[k]})" for k in missing))
    extra = sorted(k for k in doc if k not in accepted)
    c.check(not extra, f"keys in docs/config-reference.md that the parser does not accept: {extra}")
    print(f"{'ok  ' if not missing and not extra else 'FAIL'} every accepted key is in the doc, "
          f"and every key of the doc ({len(doc)}) is accepted")

    check_unknown(ox, c, doc, os.path.join(args.data_dir, "full.cfg"))
    check_defaults(c, doc, printed)
    check_bounds(ox, c, doc, printed)


def check_unknown(ox, c, doc, full):
    # (override, the key the message names, what it says, whether the key is unknown to every variant)
    cases = [("grid.voxel=20.0", "grid.voxel", "did you mean 'grid.voxel_nm'", True),
             ("material.formula.fe=0.1", "material.formula.fe", "expected one of li, ni, mn, co", True),
             ("protocol.cycling.steps.[0].tau_min=5.0", "protocol.cycling.steps.[0].tau_min",
              'unknown key for a "cc" step', False),
             ("microstructure.radius_nm=5.0", "microstructure.radius_nm",
              'unknown key for a "generated" microstructure', False),
             ("material.diffusivity_cm2_s.knots=[0.0]", "material.diffusivity_cm2_s.knots", "unknown key",
              True),
             ("observables.lamella.width_nm=5.0", "observables.lamella.width_nm", "unknown key", True),
             ("solver.newton=1", "solver.newton", "unknown key", True),
             ("plotting.dpi=100", "plotting", "unknown key", True)]
    results = ox.many([(full, [s]) for s, _, _, _ in cases])
    for (s, key, says, nowhere), (cmd, rc, out, err) in zip(cases, results):
        m = message(err)
        line = m.group(0) if m else err.strip()
        good = (c.check(rc == 2, f"--set {s}: exit status {rc}, expected 2", cmd, out, err)
                & c.check(m is not None and m["key"] == key and says in line,
                          f"--set {s}: no message naming '{key}' that says {says!r}", cmd, out, err)
                & c.check(not nowhere or normalized(key) not in doc, f"unknown key {key} is in the doc"))
        print(f"{'ok  ' if good else 'FAIL'} unknown key refused: {line}")


def same_value(a, b):
    if isinstance(a, tuple) and isinstance(b, tuple):
        return a[0] == b[0] and len(a[1]) == len(b[1]) and all(map(same_value, a[1], b[1]))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b and isinstance(a, float) == isinstance(b, float)
    return a == b


def check_defaults(c, doc, printed):
    """Every literal default of the doc is what check prints where the key was left out."""
    seen, checked, bad = {}, 0, []
    for name, (cfg, sets, defaults_only, given, parsed) in printed.items():
        if not defaults_only:
            continue
        for norm, conc, v in walk(parsed):
            row = doc.get(norm)
            if not row or norm in given or literal_default(row) is None:
                continue
            seen[norm] = name
            want = read_value(literal_default(row))
            checked += 1
            if not same_value(v, want):
                bad.append(f"{conc} = {v!r} in the resolved config ({name}), the doc says {literal_default(row)}")
    unchecked = sorted(k for k, row in doc.items() if literal_default(row) is not None and k not in seen)
    # microstructure.labels: the import above names the run's own dataset.
    unchecked = [k for k in unchecked if k != "microstructure.labels"]
    good = (c.check(not bad, "defaults in the doc differ from the resolved ones:\n  " + "\n  ".join(bad))
            & c.check(not unchecked, f"defaults in the doc that no config here leaves out: {unchecked}"))
    print(f"{'ok  ' if good else 'FAIL'} every default of the doc is the reader's ({len(seen)} keys, "
          f"{checked} values; microstructure.labels not checked: the import names its dataset)")


def check_bounds(ox, c, doc, printed):
    """For each number or integer key: a value beyond each bound is refused naming the
    key; a closed bound is not refused as out of range."""
    where = {}
    for name, (cfg, sets, _, _, parsed) in printed.items():
        for norm, conc, v in walk(parsed):
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                where.setdefault(norm, (cfg, sets, conc))
    calls, meta = [], []
    for key, row in sorted(doc.items()):
        if row["type"] not in ("number", "integer"):
            continue
        bs = bounds(row)
        if not bs:
            continue
        if key not in where:
            c.fail(f"{key}: no resolved config here holds it, its bounds go unchecked")
            continue
        cfg, sets, conc = where[key]
        integer = row["type"] == "integer"
        for v, closed, side in bs:
            step = 1 if integer else max(abs(v), 1.0) * 1e-3
            outside = v + side * step if closed else v
            fmt = (lambda x: str(int(x))) if integer else (lambda x: repr(float(x)))
            calls.append((cfg, sets + [f"{conc}={fmt(outside)}"]))
            meta.append((key, conc, fmt(outside), True))
            if closed:
                calls.append((cfg, sets + [f"{conc}={fmt(v)}"]))
                meta.append((key, conc, fmt(v), False))
    refused = accepted = 0
    for (key, conc, value, beyond), (cmd, rc, out, err) in zip(meta, ox.many(calls)):
        m = message(err)
        says_range = m is not None and m["key"] == conc and "out of range" in m["what"]
        if beyond:
            refused += c.check(rc == 2 and says_range, f"{conc}={value} (beyond the doc's bound "
                               f"{doc[key]['allowed']}) is not refused as out of range", cmd, out, err)
        else:
            accepted += c.check(not says_range, f"{conc}={value} (the doc's closed bound "
                                f"{doc[key]['allowed']}) is refused as out of range", cmd, out, err)
    good = refused + accepted == len(meta)
    print(f"{'ok  ' if good else 'FAIL'} the doc's bounds are the reader's: {refused} values beyond "
          f"a bound refused, {accepted} closed bounds accepted")


# ---------------------------------------------------------------------------
# --case set
# ---------------------------------------------------------------------------

def table_of(out, path):
    parsed = read_config(out)
    node = parsed
    for part in path.split("."):
        node = node[part]
    return [float(x) for x in node["soc"][1]], [float(x) for x in node["value"][1]]


def case_set(args, ox, c):
    with open(args.doc, encoding="utf-8") as f:
        doc = doc_keys(f.read())
    full = os.path.join(args.data_dir, "full.cfg")
    minimal = os.path.join(args.data_dir, "minimal.cfg")
    tables = sorted(k for k, row in doc.items() if row["type"].startswith("table"))
    c.check(len(tables) >= 3, f"only {len(tables)} tables in the doc: {tables}")
    cmd, rc, out_min, err = ox.check(minimal)
    cmd2, rc2, out_full, err2 = ox.check(full)
    if not (c.check(rc == 0, "check minimal.cfg", cmd, out_min, err)
            and c.check(rc2 == 0, "check full.cfg", cmd2, out_full, err2)):
        return
    fmt = lambda xs: "[" + ", ".join(repr(x) for x in xs) + "]"
    flat_min = {n: v for n, _, v in walk(read_config(out_min))}
    flat_full = {n: v for n, _, v in walk(read_config(out_full))}
    for t in tables:
        default = read_value(literal_default(doc[t]))
        dsoc = [float(x) for x in default["soc"][1]]
        dval = [float(x) for x in default["value"][1]]
        # minimal.cfg leaves the table out: what a --set of a member starts from is its default.
        c.check(table_of(out_min, t) == (dsoc, dval), f"{t} of minimal.cfg is not the doc's default "
                f"{literal_default(doc[t])}", cmd)
        newval = [x * 2 for x in dval]  # within every table's range (c_eq <= 0.3)
        n = len(dsoc)
        newsoc = [0.9 * i / (n - 1) for i in range(n)] if n > 1 else [0.5]
        fsoc, fval = table_of(out_full, t)
        cases = [
            (f"{t}.value on minimal.cfg (no such table: the default soc stays)", minimal,
             [f"{t}.value={fmt(newval)}"], (dsoc, newval)),
            (f"{t}.soc on minimal.cfg (the default values stay)", minimal,
             [f"{t}.soc={fmt(newsoc)}"], (newsoc, dval)),
            (f"{t}.value on full.cfg (the file's soc stays)", full,
             [f"{t}.value={fmt([v * 2 for v in fval])}"], (fsoc, [v * 2 for v in fval])),
            (f"{t}.soc then .value, another length", minimal,
             [f"{t}.soc=[0.0, 1.0]", f"{t}.value={fmt(dval[-2:])}"], ([0.0, 1.0], dval[-2:])),
        ]
        for what, cfg, sets, (want_soc, want_val) in cases:
            cmd, rc, out, err = ox.check(cfg, sets)
            good = c.check(rc == 0, f"--set {what}: exit status {rc}", cmd, out, err)
            if good:
                soc, val = table_of(out, t)
                good = c.check(soc == want_soc and val == want_val,
                               f"--set {what}: soc {soc}, value {val}; expected soc {want_soc}, "
                               f"value {want_val}", cmd, out)
                # Nothing else changed.
                base = flat_min if cfg == minimal else flat_full
                now = {n: v for n, _, v in walk(read_config(out))}
                leaves = lambda d: {n: v for n, v in d.items()
                                    if not isinstance(v, dict) and not (isinstance(v, tuple) and v[0] == "list")}
                base, now = leaves(base), leaves(now)
                others = [n for n in set(base) | set(now) if not n.startswith(t)
                          and not (n in base and n in now and same_value(now[n], base[n]))]
                good &= c.check(not others, f"--set {what} changed other keys: {sorted(others)}", cmd)
            print(f"{'ok  ' if good else 'FAIL'} --set {what}")
        sets = [f"{t}.value={fmt(dval + [dval[-1]])}"]
        cmd, rc, out, err = ox.check(minimal, sets)
        m = message(err)
        good = c.check(rc == 2 and m is not None and m["key"] == f"{t}.value" and m["where"] == "--set:1"
                       and f"has {len(dval) + 1} values for {len(dsoc)} soc knots" in m["what"],
                       f"--set {sets[0]}: expected --set:1: key '{t}.value': has {len(dval) + 1} values "
                       f"for {len(dsoc)} soc knots", cmd, out, err)
        print(f"{'ok  ' if good else 'FAIL'} --set {t}.value of another length refused: "
              f"{m.group(0) if m else err.strip()}")


# ---------------------------------------------------------------------------

def main():
    ap = oxtest.parser(__doc__, mpiexec=False, keep=True, timeout=60.0)
    ap.add_argument("--case", choices=["doc", "keys", "set", "all"], default="all")
    ap.add_argument("--doc", default=os.path.join(HERE, "..", "docs", "config-reference.md"))
    ap.add_argument("--data-dir", default=os.path.join(HERE, "data"))
    ap.add_argument("--jobs", type=int, default=2, help="oxvac runs at once")
    ap.add_argument("--write", metavar="DOC", help="write `oxvac help config --markdown` to DOC and exit")
    args = oxtest.parse_args(ap)
    ox = Oxvac(args.oxvac, args.timeout, args.jobs)
    if args.write:
        cmd, rc, out, err = ox(["help", "config", "--markdown"])
        if rc != 0 or not out:
            print(f"{shlex.join(cmd)}: exit status {rc}\n{err}")
            return 1
        with open(args.write, "w", encoding="utf-8", newline="") as f:
            f.write(out)
        print(f"wrote {args.write} ({len(out)} bytes)")
        return 0
    args.doc = os.path.abspath(args.doc)
    args.data_dir = os.path.abspath(args.data_dir)
    c = oxtest.Checker(f"test_config_reference --case {args.case}")
    with oxtest.workdir(args.keep, "oxvac_config_reference_") as workdir:
        if args.case in ("doc", "all"):
            case_doc(args, ox, c)
        if args.case in ("keys", "all"):
            case_keys(args, ox, c, workdir)
        if args.case in ("set", "all"):
            case_set(args, ox, c)
    return c.exit_code(f"{c.count} checks")


if __name__ == "__main__":
    sys.exit(main())
