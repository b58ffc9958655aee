#!/usr/bin/env python3
"""Verify a Laneway audit export (JSON Lines) with the standard library only.

Usage: verify_audit_export.py audit.jsonl   (or - for standard input)
Prints OK, or the first broken event, and exits 1 when the export is broken.
"""

import hashlib
import json
import sys
from decimal import Decimal


def canon(v):
    if isinstance(v, dict):
        return (
            "{" + ",".join(json.dumps(k) + ":" + canon(v[k]) for k in sorted(v)) + "}"
        )
    if isinstance(v, list):
        return "[" + ",".join(canon(x) for x in v) + "]"
    if isinstance(v, float):
        if v == 0:
            return "0.0"
        return str(int(Decimal(repr(v)))) if abs(v) >= 1e16 else repr(v)
    return json.dumps(v)


def check(lines):
    chains, heads = {}, {}
    for line in filter(str.strip, lines):
        row = json.loads(line)
        if row.get("record") == "chain_head":
            heads[row["chain"]] = (row["chain_seq"], row["hash"])
        elif "record" not in row:
            chains.setdefault(row["chain"], []).append(row)
    for chain, rows in sorted(chains.items()):
        rows.sort(key=lambda r: r["chain_seq"])
        prev = rows[0] if chain not in heads else {"chain_seq": 0, "hash": "0" * 64}
        for row in rows:
            doc = {k: v for k, v in row.items() if k != "hash"}
            canonical = (row["prev_hash"] + canon(doc)).encode()
            where = f"{chain} #{row['chain_seq']} ({row['id']})"
            if hashlib.sha256(canonical).hexdigest() != row["hash"]:
                return f"{where}: hash does not match its content"
            follows = (prev["chain_seq"] + 1, prev["hash"])
            if row is not prev and (row["chain_seq"], row["prev_hash"]) != follows:
                return f"{where}: does not follow #{prev['chain_seq']}"
            prev = row
        if chain in heads and heads[chain] not in {
            (r["chain_seq"], r["hash"]) for r in rows
        }:
            return f"{chain}: its head #{heads[chain][0]} is missing or changed"
    missing = sorted(set(heads) - set(chains))
    return f"{missing[0]}: has a head but no events" if missing else None


if __name__ == "__main__":
    with open(sys.argv[1]) if sys.argv[1] != "-" else sys.stdin as stream:
        problem = check(stream)
    print(f"BROKEN: {problem}" if problem else "OK")
    sys.exit(1 if problem else 0)
