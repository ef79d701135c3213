#!/usr/bin/python3
"""The repository's text files point only at things inside the repository.

1. No tracked text file (`git ls-files`: *.md, *.py, *.c, *.h, *.cfg,
   *.cmake, *.txt, CMakeLists.txt, *.sh, *.cff) mentions the developers'
   working copy outside the repository: the folder `shared` beside the checkout (written
   relative to it, `../` + `shared`), its `contract` and `reference`, or an
   absolute path into the developers' `/` + `work` tree. The docs are the
   specification now (docs/interface.md); a reader of a clone has neither.
2. Every Markdown link or image `[text](target)` in a *.md file, and every
   reference definition `[label]: target`, resolves: a relative target is a
   file or folder of the repository (tracked, or new and not ignored), seen
   from the page's folder and not outside the repository; a `#anchor` into a
   .md file (or `#anchor` alone, into the page itself) names one of its
   headings by GitHub's slug (lower case, punctuation dropped, spaces to
   hyphens, -1, -2, ... for repeats). http(s) links are not followed.
   Links inside code (fenced blocks, `inline code`) are not links; a link's
   text may go over a line break.

(That every config key has a row in docs/config-reference.md is
test_config_reference's.)

Debian's /usr/bin/python3, standard library only. Prints each failure as
FILE:LINE: what; exit 0 when there is none, 1 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys
from urllib.parse import unquote

TEXT_SUFFIXES = (".md", ".py", ".c", ".h", ".cfg", ".cmake", ".txt", ".sh", ".cff")

# The patterns are assembled from pieces so that this file does not match them.
SHARED = "shared"
FORBIDDEN = [
    (re.compile(re.escape("../" + SHARED)), "the folder beside the checkout ('../" + SHARED + "')"),
    (re.compile(re.escape(SHARED + "/contract")), "the old contract ('" + SHARED + "/contract'); cite docs/interface.md"),
    (re.compile(re.escape(SHARED + "/reference")), "the developers' references ('" + SHARED + "/reference')"),
    # that tree as a path of its own: not homework/, src/work, $HOME/work, a folder workspace
    (re.compile(r"(?<![\w.~/$-])/" + "work" + r"(?![\w.-])"), "an absolute path into /" + "work"),
]
# Tests that read data from the folder beside the checkout (allowed for data
# only): none does today. Name them here, repository-relative, if one must.
READS_SHARED_DATA = ()
SHARED_RULE = 0  # the index in FORBIDDEN of the rule those tests are exempt from


def repo_files(root, untracked=False):
    """Repository-relative paths of the tracked files present on disk; with
    untracked, also the new files git does not ignore."""
    cmd = ["git", "-C", root, "ls-files", "-z", "--cached"] + (["--others", "--exclude-standard"] if untracked else [])
    try:
        out = subprocess.run(cmd, check=True, capture_output=True).stdout
    except subprocess.CalledProcessError as e:
        sys.exit(f"test_docs_links: git ls-files failed in {root}: {e.stderr.decode(errors='replace').strip()}")
    except OSError as e:
        sys.exit(f"test_docs_links: cannot run git ({e}); the test needs a git checkout")
    names = sorted({n for n in out.decode("utf-8", "surrogateescape").split("\0") if n})
    return [n for n in names if os.path.isfile(os.path.join(root, n))]


def is_text(name):
    return name.endswith(TEXT_SUFFIXES) or os.path.basename(name) == "CMakeLists.txt"


def read(root, name):
    with open(os.path.join(root, name), encoding="utf-8", errors="replace") as f:
        return f.read()


def check_forbidden(name, text, fail):
    for lineno, line in enumerate(text.splitlines(), 1):
        for k, (pat, what) in enumerate(FORBIDDEN):
            if k == SHARED_RULE and name.startswith("tests/") and name in READS_SHARED_DATA:
                continue
            m = pat.search(line)
            if m:
                fail(f"{name}:{lineno}: mentions {what}: ...{line[max(0, m.start() - 30):m.end() + 30].strip()}...")


# ---------------------------------------------------------------- Markdown

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def prose_lines(text):
    """(line number, line) outside fenced code blocks."""
    fence = None
    for lineno, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)[0] * len(m.group(1))
            continue
        if fence is not None:
            if line.strip().startswith(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        yield lineno, line


def strip_code_spans(line):
    """The line with `inline code` blanked (same length, so columns stay)."""
    def blank(m):
        return " " * len(m.group(0))
    return re.sub(r"(`+)(?:(?!\1).)+?\1", blank, line)


def slug(heading):
    """GitHub's anchor of a heading's text."""
    parts = re.split(r"(`+[^`]*?`+)", heading)   # odd parts: code spans, whose text stays as written
    for i in range(0, len(parts), 2):
        t = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", parts[i])    # links and images: their text
        t = re.sub(r"<[^>]+>", "", t)                                # inline HTML
        parts[i] = re.sub(r"(\*\*|__|\*|(?<!\w)_(?=\S)|(?<=\S)_(?!\w))", "", t)  # emphasis markers
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].strip("`")
    t = "".join(parts).strip().lower()
    t = re.sub(r"[^\w\- ]", "", t)
    return t.replace(" ", "-")


def anchors(text):
    seen, out = {}, set()
    for _, line in prose_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        s = slug(m.group(2))
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else f"{s}-{n}")
    return out


INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)")
REF_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")


def paragraphs(text):
    """(first line number, lines) of each run of non-blank lines outside code
    blocks, inline code blanked: a link's text may go over a line break."""
    block, start, last = [], 0, None
    for lineno, line in prose_lines(text):
        if not line.strip() or (last is not None and lineno != last + 1):
            if block:
                yield start, block
            block = []
        if line.strip():
            if not block:
                start = lineno
            block.append(strip_code_spans(line))
        last = lineno
    if block:
        yield start, block


def links(text):
    """(line number, target) of every inline link, image and reference definition."""
    for start, lines in paragraphs(text):
        joined = "\n".join(lines)
        for m in INLINE_LINK.finditer(joined):
            yield start + joined.count("\n", 0, m.start(1)), m.group(1)
        for k, line in enumerate(lines):
            m = REF_DEF.match(line)
            if m:
                yield start + k, m.group(1)


def check_markdown(root, name, text, files, dirs, anchor_cache, fail):
    here = os.path.dirname(name)
    for lineno, target in links(text):
        where = f"{name}:{lineno}: link ({target})"
        t = target[1:-1] if target.startswith("<") and target.endswith(">") else target
        if not t:
            fail(f"{where}: empty target")
            continue
        if re.match(r"https?://", t, re.IGNORECASE):
            continue
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", t):
            fail(f"{where}: only relative paths and http(s) links are allowed")
            continue
        path, _, anchor = t.partition("#")
        path = unquote(path)
        if path.startswith("/"):
            fail(f"{where}: an absolute path; expected one relative to {here or 'the top'}")
            continue
        if path:
            rel = os.path.normpath(os.path.join(here, path))
            if rel == ".." or rel.startswith("../"):
                fail(f"{where}: points outside the repository")
                continue
            if rel not in files and rel not in dirs:
                fail(f"{where}: {rel} is not in the repository")
                continue
        else:
            rel = name
        if anchor and rel.endswith(".md") and rel in files:
            if rel not in anchor_cache:
                anchor_cache[rel] = anchors(read(root, rel))
            if unquote(anchor) not in anchor_cache[rel]:
                fail(f"{where}: {rel} has no heading with the anchor #{anchor}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.realpath(__file__))),
                    help="the repository (default: the folder above tests/)")
    args = ap.parse_args()
    root = os.path.abspath(args.root)

    files = repo_files(root)                              # the files checked
    fileset = set(repo_files(root, untracked=True))       # what a link may point at
    dirs = {"."}
    for n in fileset:
        d = os.path.dirname(n)
        while d and d not in dirs:
            dirs.add(d)
            d = os.path.dirname(d)

    failures = []
    fail = failures.append
    anchor_cache = {}
    ntext = nmd = 0
    for name in files:
        if not is_text(name):
            continue
        text = read(root, name)
        ntext += 1
        check_forbidden(name, text, fail)
        if name.endswith(".md"):
            nmd += 1
            check_markdown(root, name, text, fileset, dirs, anchor_cache, fail)

    for f in failures:
        print(f)
    print(f"test_docs_links: {ntext} text files, {nmd} Markdown pages: "
          f"{len(failures)} failure{'' if len(failures) == 1 else 's'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
