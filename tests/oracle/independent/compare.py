"""Compares `pcs score --area all` with oracle.py (an implementation of
rules-areas.md written from the spec alone, without reading pcs's code) on one
dataset: `PCS=path/to/pcs DS=dataset python3 compare.py --month M` (or
`--date D`). Prints every difference; exits 1 if there is one."""
import json, os, subprocess, sys
args = sys.argv[1:]
HERE = os.path.dirname(os.path.abspath(__file__))
P = os.environ['PCS']
DS = os.environ['DS']
r = subprocess.run([P, 'score', DS] + args + ['--format', 'jsonl', '--area', 'all', '-q'], capture_output=True, text=True)
if r.returncode: print('pcs rc', r.returncode, r.stderr[:500]); sys.exit(1)
o = subprocess.run([sys.executable, os.path.join(HERE, 'oracle.py'), DS] + args, capture_output=True, text=True, check=True)
pcs = {(j['partner_id'], j['solution_area']): j for j in map(json.loads, filter(None, r.stdout.split('\n')))}
orc = {(j['partner_id'], j['solution_area']): j for j in map(json.loads, filter(None, o.stdout.split('\n')))}
def eq(a, b):
    if a is None or b is None: return a is None and b is None
    return abs(float(a) - float(b)) < 1e-9
n = 0
for k, oj in orc.items():
    pj = pcs.get(k)
    if not pj: print('MISSING in pcs', k); n += 1; continue
    for m, ov in oj['metrics'].items():
        pv = pj['metrics'].get(m)
        if pv is None: print(k, m, 'missing in pcs'); n += 1; continue
        for f in ('value', 'points'):
            if not eq(pv.get(f), ov.get(f)): print(k, m, f, 'pcs', pv.get(f), 'oracle', ov.get(f)); n += 1
        for part, po in ov.get('parts', {}).items():
            pp = (pv.get('parts') or {}).get(part, {})
            for f in ('value', 'points'):
                if not eq(pp.get(f), po.get(f)): print(k, m, part, f, 'pcs', pp.get(f), 'oracle', po.get(f)); n += 1
    extra = set(pj['metrics']) - set(oj['metrics'])
    if extra: print(k, 'extra metrics in pcs', extra); n += 1
    for f in ('total_points', 'qualified', 'classification'):
        if f in oj and not (oj[f] == pj.get(f) or (f == 'total_points' and eq(oj[f], pj.get(f)))): print(k, f, 'pcs', pj.get(f), 'oracle', oj[f]); n += 1
    if 'tracks' in oj:
        for t, ot in oj['tracks'].items():
            pt = pj.get('tracks', {}).get(t, {})
            for m, ov in ot['metrics'].items():
                pv = pt.get('metrics', {}).get(m, {})
                for f in ('value', 'points'):
                    if not eq(pv.get(f), ov.get(f)): print(k, 'track', t, m, f, 'pcs', pv.get(f), 'oracle', ov.get(f)); n += 1
            for mm, oo in ot.get('opts', {}).items():
                for on, (ov_, op_) in oo.items():
                    po = pt.get('metrics', {}).get(mm, {}).get('options', {}).get(on, {})
                    if not (eq(po.get('value'), ov_) and eq(po.get('points'), op_)): print(k, 'track', t, mm, 'option', on, 'pcs', po.get('value'), po.get('points'), 'oracle', ov_, op_); n += 1
            for f in ('total_points', 'qualified'):
                if not eq(pt.get(f), ot[f]) and pt.get(f) != ot[f]: print(k, 'track', t, f, 'pcs', pt.get(f), 'oracle', ot[f]); n += 1
print(args, 'compared', len(orc), 'objects;', n, 'diffs')
sys.exit(1 if n else 0)
