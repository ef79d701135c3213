#!/usr/bin/python3
"""cmake --install: the program, the C libraries with a CMake package config,
the Python package, the docs and the inputs land in the prefix; a separate
CMake project finds oxvac with find_package(oxvac) and links oxvac::oxvac_input
to read a config; the installed oxvac checks the installed demo input.

usage: test_install.py --build BUILD_DIR [--keep DIR]
"""
import argparse
import os
import subprocess
import sys

import oxtest

HERE = os.path.dirname(os.path.abspath(__file__))
CONSUMER_C = r'''
#include <stdio.h>
#include "oxvac/config.h"
int main(int argc, char **argv)
{
  OxConfig cfg;
  char     err[OX_ERR_MAX];
  if (argc < 2 || OxConfigLoad(argv[1], 0, NULL, &cfg, err, sizeof(err))) { fprintf(stderr, "%s\n", err); return 2; }
  printf("voxel_nm = %g\n", cfg.voxel_nm);
  OxConfigFree(&cfg);
  return 0;
}
'''
CONSUMER_CMAKE = '''cmake_minimum_required(VERSION 3.18)
project(consumer LANGUAGES C)
find_package(oxvac REQUIRED)
add_executable(consumer main.c)
target_link_libraries(consumer PRIVATE oxvac::oxvac_input)
'''


def checks(args, work, c):
    prefix = os.path.join(work, "prefix")
    p = oxtest.run(["cmake", "--install", args.build, "--prefix", prefix], timeout=120)
    c.check(p.returncode == 0, "cmake --install", p.args, p.stdout, p.stderr)
    for rel in ("bin/oxvac", "include/oxvac/config.h", "lib/cmake/oxvac/oxvacConfig.cmake", "share/oxvac/inputs/demo.cfg",
                "share/doc/oxvac/README.md", "share/doc/oxvac/LICENSE", "share/doc/oxvac/CITATION.cff"):
        c.check(os.path.exists(os.path.join(prefix, rel)), f"installed {rel}")
    libs = os.listdir(os.path.join(prefix, "lib")) if os.path.isdir(os.path.join(prefix, "lib")) else []
    c.check("liboxvac_core.a" in libs and "liboxvac_input.a" in libs, f"installed the libraries: {libs}")
    pkg = os.path.join(prefix, "lib", "python3", "dist-packages")
    if os.path.isdir(os.path.join(HERE, "..", "postprocess", "oxvac")):
        env = dict(os.environ, PYTHONPATH=pkg)
        q = subprocess.run(["/usr/bin/python3", "-c", "import oxvac, sys; print(oxvac.__file__)"], capture_output=True, text=True, env=env, cwd=work)
        c.check(q.returncode == 0 and q.stdout.startswith(pkg), "the installed Python package imports from the prefix", q.args, q.stdout, q.stderr)
    p = oxtest.run([os.path.join(prefix, "bin", "oxvac"), "check", os.path.join(prefix, "share", "oxvac", "inputs", "demo.cfg")], timeout=60)
    c.check(p.returncode == 0, "the installed oxvac checks the installed demo input", p.args, p.stdout, p.stderr)
    src = os.path.join(work, "consumer")
    os.makedirs(src)
    open(os.path.join(src, "main.c"), "w").write(CONSUMER_C)
    open(os.path.join(src, "CMakeLists.txt"), "w").write(CONSUMER_CMAKE)
    bld = os.path.join(work, "consumer-build")
    p = oxtest.run(["cmake", "-S", src, "-B", bld, f"-DCMAKE_PREFIX_PATH={prefix}"], timeout=300)
    c.check(p.returncode == 0, "a consumer project finds oxvac with find_package", p.args, p.stdout, p.stderr)
    p = oxtest.run(["cmake", "--build", bld], timeout=300)
    c.check(p.returncode == 0, "and links oxvac::oxvac_input", p.args, p.stdout, p.stderr)
    p = oxtest.run([os.path.join(bld, "consumer"), os.path.join(HERE, "data", "minimal.cfg")], timeout=60)
    c.check(p.returncode == 0 and "voxel_nm = " in p.stdout, f"the consumer reads a config: {p.stdout.strip()}", p.args, p.stdout, p.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--keep")
    args = ap.parse_args()
    return oxtest.main("test_install", args, checks)


if __name__ == "__main__":
    sys.exit(main())
