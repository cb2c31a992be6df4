#!/usr/bin/env python3
"""File-layout and registry checks of the crash tests (tests/crash/), written from
docs/storage.md and include/morsel/store.h rather than from morsel's code.

  crash_check.py files MORSEL ROOT [--single] [--allow NAME ...]
      Directory dataset ROOT: every file the manifest lists exists with its recorded size
      and is a complete readable file holding its recorded rows (`morsel scan`); no
      visible file (no '.'/'_' segment) is anything but a manifest-listed token file or a
      hand-placed file named by --allow; no manifest file is hidden. --single: ROOT is a
      single-file dataset: it is readable and no visible temporary sits next to it.
      Prints one line per problem; exit 0 either way. The last line is
      "INFO live=N orphans=N temps=N generation=G" (orphans: token files the manifest does
      not list; temps: hidden '.…tmp…' files).
  crash_check.py registry DB PROJECT DATASET ROOT [--single] [--prepared-ok]
      The registry's data commit records of DATASET agree with the files: no prepared
      record (unless --prepared-ok: at most one, for the next generation only), the
      committed records' generations are 1..G without gaps where G is the manifest's
      generation, the last committed record's total_rows / total_files equal the
      manifest's; --single: the last committed identity_after is the file's current
      "dev:ino:size:mtime_ns". Prints problems, then "INFO committed=N aborted=N
      prepared=N".
"""
import json
import os
import re
import sqlite3
import subprocess
import sys

TOKEN = re.compile(r"\.m[0-9a-f]{16}\.")


SCAN_CACHE = {}


def scan_rows(morsel, path):
    """Rows of one file read whole by morsel, or None when it cannot be read. Files are
    immutable once renamed into place, so a result is cached by (path, inode, size, mtime)
    across runs (CRASH_SCAN_CACHE names the cache file)."""
    st = os.stat(path)
    key = f"{path}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}"
    if key in SCAN_CACHE:
        return SCAN_CACHE[key]
    rows = scan_rows_uncached(morsel, path)
    if rows is not None:
        SCAN_CACHE[key] = rows
    return rows


def load_cache():
    path = os.environ.get("CRASH_SCAN_CACHE")
    if path and os.path.exists(path):
        with open(path) as f:
            SCAN_CACHE.update(json.load(f))


def save_cache():
    path = os.environ.get("CRASH_SCAN_CACHE")
    if path:
        with open(path + ".tmp", "w") as f:
            json.dump(SCAN_CACHE, f)
        os.replace(path + ".tmp", path)


def scan_rows_uncached(morsel, path):
    p = subprocess.run([morsel, "scan", path, "--threads", "1"], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    m = re.search(r"rows=(\d+)", p.stdout)
    return int(m.group(1)) if m else None


def read_manifest(root):
    path = os.path.join(root, "_morsel_manifest.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def manifest_files(man):
    """The manifest's live files as {path: (rows, bytes)}."""
    out = {}
    if man is None:
        return out
    for e in man.get("files", []):
        out[e["path"]] = (int(e.get("rows", -1)), int(e.get("bytes", -1)))
    return out


def files_cmd(args):
    morsel, root = args[0], args[1]
    single = "--single" in args
    allow = set()
    i = 2
    while i < len(args):
        if args[i] == "--allow":
            allow.add(args[i + 1])
            i += 1
        i += 1
    problems = []
    if single:
        d, base = os.path.split(root)
        if not os.path.exists(root):
            problems.append(f"single file {root} missing")
        elif scan_rows(morsel, root) is None:
            problems.append(f"single file {root} is not readable")
        temps = 0
        for name in os.listdir(d):
            if name.startswith(".") and "tmp" in name:
                temps += 1
            elif name != base and base in name and not name.startswith("_"):
                problems.append(f"visible file {name} next to {base}")
        for p in problems:
            print(p)
        print(f"INFO live=1 orphans=0 temps={temps} generation=0")
        return
    man = read_manifest(root)
    listed = manifest_files(man)
    live, orphans, temps = [], 0, 0
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        # hidden folders: '.' or '_' names, except hive folders (`__log_date=…`)
        hidden_dir = any(seg[:1] == "." or (seg[:1] == "_" and "=" not in seg)
                         for seg in rel_dir.split("/") if seg)
        for name in filenames:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            hidden = hidden_dir or name[:1] in (".", "_")
            if name.startswith(".") and "tmp" in name:
                temps += 1
            if hidden:
                if rel in listed:
                    problems.append(f"manifest lists a hidden file {rel}")
                continue
            if TOKEN.search(name):
                if rel in listed:
                    live.append(rel)
                else:
                    orphans += 1
            elif name in allow:
                live.append(rel)
            else:
                problems.append(f"visible file {rel} is neither committed nor hand-placed")
    for rel, (rows, size) in sorted(listed.items()):
        full = os.path.join(root, rel)
        if not os.path.exists(full):
            problems.append(f"manifest file {rel} missing")
            continue
        if size >= 0 and os.path.getsize(full) != size:
            problems.append(f"manifest file {rel}: {os.path.getsize(full)} bytes, manifest says {size}")
        got = scan_rows(morsel, full)
        if got is None:
            problems.append(f"manifest file {rel} is not a readable file")
        elif rows >= 0 and got != rows:
            problems.append(f"manifest file {rel}: {got} rows, manifest says {rows}")
    for rel in live:
        if rel not in listed and scan_rows(morsel, os.path.join(root, rel)) is None:
            problems.append(f"hand-placed file {rel} is not readable")
    for p in problems:
        print(p)
    gen = int(man.get("generation", 0)) if man else 0
    print(f"INFO live={len(live)} orphans={orphans} temps={temps} generation={gen}")


def commit_table(con):
    """The registry table of data commit records: found by its columns, so the test does
    not depend on the table's name."""
    for (name,) in con.execute("select name from sqlite_master where type = 'table'"):
        cols = {r[1] for r in con.execute(f'pragma table_info("{name}")')}
        if {"dataset", "generation", "state"} <= cols:
            return name, cols
    return None, None


def identity(path):
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


def registry_cmd(args):
    db, project, dataset, root = args[:4]
    morsel = os.environ.get("MORSEL")
    single = "--single" in args
    prepared_ok = "--prepared-ok" in args
    problems = []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    table, cols = commit_table(con)
    if table is None:
        print("registry has no data commit table")
        print("INFO committed=0 aborted=0 prepared=0")
        return
    where, params = "dataset = ?", [dataset]
    if "project" in cols:
        where += " and project = ?"
        params.append(project)
    rows = [dict(r) for r in con.execute(f'select * from "{table}" where {where} order by generation', params)]
    committed = [r for r in rows if r["state"] == "committed"]
    aborted = [r for r in rows if r["state"] == "aborted"]
    prepared = [r for r in rows if r["state"] == "prepared"]
    gens = [r["generation"] for r in committed]
    if gens != list(range(1, len(gens) + 1)):
        problems.append(f"committed generations are not 1..{len(gens)}: {gens}")
    last_gen = gens[-1] if gens else 0
    if prepared:
        if not prepared_ok:
            problems.append(f"unresolved prepared records: generations {[r['generation'] for r in prepared]}")
        elif len(prepared) > 1 or prepared[0]["generation"] != last_gen + 1:
            problems.append(f"prepared window wider than one generation: prepared "
                            f"{[r['generation'] for r in prepared]}, last committed {last_gen}")
    last = committed[-1] if committed else None
    if single:
        # With a prepared record pending the file is the old one (its identity is the
        # prepared record's identity_before) or the new one; recovery decides which.
        if last is not None and os.path.exists(root) and not prepared:
            if last.get("identity_after") != identity(root):
                problems.append(f"last committed identity {last.get('identity_after')} != file {identity(root)}")
        if last is not None and os.path.exists(root) and "total_rows" in last and not prepared:
            got = scan_rows(morsel, root) if morsel else None
            if got is not None and got != last["total_rows"]:
                problems.append(f"registry total_rows {last['total_rows']} != file rows {got}")
    else:
        man = read_manifest(root)
        mgen = int(man.get("generation", 0)) if man else 0
        if mgen != last_gen and not (prepared_ok and prepared and mgen == last_gen + 1):
            problems.append(f"manifest generation {mgen} != registry's last committed {last_gen}")
        if last is not None and mgen == last_gen:
            files = manifest_files(man)
            rows_sum = sum(r for r, _ in files.values())
            if "total_rows" in last and last["total_rows"] != rows_sum:
                problems.append(f"registry total_rows {last['total_rows']} != manifest rows {rows_sum}")
            if "total_files" in last and last["total_files"] != len(files):
                problems.append(f"registry total_files {last['total_files']} != manifest files {len(files)}")
    for p in problems:
        print(p)
    print(f"INFO committed={len(committed)} aborted={len(aborted)} prepared={len(prepared)}")


def main():
    load_cache()
    # several commands in one run, separated by "--next" (one interpreter start)
    groups, cur = [], []
    for a in sys.argv[1:]:
        if a == "--next":
            groups.append(cur)
            cur = []
        else:
            cur.append(a)
    groups.append(cur)
    for g in groups:
        cmd, args = g[0], g[1:]
        if cmd == "files":
            files_cmd(args)
        elif cmd == "registry":
            registry_cmd(args)
        else:
            sys.exit(f"unknown command {cmd}")
    save_cache()


if __name__ == "__main__":
    main()
