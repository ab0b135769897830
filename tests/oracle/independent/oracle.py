#!/usr/bin/env python3
"""Independent oracle for the five non-BA areas of rules-areas.md. Usage: oracle.py DIR (--month YYYY-MM | --date YYYY-MM-DD)"""
import csv, os, sys, json, re, datetime, calendar
from fractions import Fraction as F
from decimal import Decimal, ROUND_HALF_UP, ROUND_DOWN

def nk(s): return re.sub(r'[\s_\-]+', ' ', (s or '').strip().lower())
def nw(s): return re.sub(r'[\s_\-]+', '', (s or '').strip().lower())

def load(d, name):
    p = os.path.join(d, name + '.csv')
    if not os.path.exists(p): return []
    with open(p, newline='', encoding='utf-8-sig') as f:
        r = csv.reader(f); hdr = [nk(h).replace(' ', '_') for h in next(r)]
        return [dict(zip(hdr, row)) for row in r if any(c.strip() for c in row)]

def madd(m, k):
    y, mo = map(int, m.split('-')); t = y*12 + mo-1 + k
    return '%04d-%02d' % (t//12, t%12+1)

def trunc2(x):
    x = F(x); return F(int(x*100), 100) if x >= 0 else -F(int(-x*100), 100)
def halfup2(x):
    x = F(x); return F(int((x*100 + F(1,2)) // 1), 100)
def clamp(x, lo, hi): return max(F(lo), min(F(hi), F(x)))
def num(x):
    if x is None: return None
    x = F(x)
    if x.denominator == 1: return int(x)
    return float(Decimal(x.numerator)/Decimal(x.denominator))

ASSOC_ALIAS = {'claiming partner of record': 'cpor', 'digital partner of record': 'dpor', 'direct partner of record': 'dpor',
               'partner admin link': 'pal', 'csp t1': 'csp tier 1', 'csp t2': 'csp tier 2'}
def assoc(s): s = nk(s); return ASSOC_ALIAS.get(s, s)

# certifications: id -> (names, eligible-through)
CERTS = {
 'azure-administrator': (['Azure Administrator Associate'], None),
 'azure-network-engineer-associate': (['Azure Network Engineer Associate'], None),
 'azure-stack-hub-operator': (['Azure Stack Hub Operator Associate'], '2024-07-31'),
 'windows-server-hybrid-administrator': (['Windows Server Hybrid Administrator Associate'], None),
 'azure-solutions-architect': (['Azure Solutions Architect Expert'], None),
 'azure-virtual-desktop-specialty': (['Azure Virtual Desktop Specialty'], None),
 'azure-for-sap-workloads-specialty': (['Azure for SAP Workloads Specialty'], None),
 'azure-database-administrator-associate': (['Azure Database Administrator Associate'], None),
 'azure-ai-engineer': (['Azure AI Engineer Associate'], None),
 'azure-data-scientist': (['Azure Data Scientist Associate'], None),
 'azure-data-engineer': (['Azure Data Engineer Associate'], None),
 'data-analyst-associate': (['Data Analyst Associate', 'Power BI Data Analyst Associate'], None),
 'customer-data-platform-specialty': (['Customer Data Platform Specialty'], None),
 'azure-cosmos-db-developer-specialty': (['Azure Cosmos DB Developer Specialty'], None),
 'azure-developer': (['Azure Developer Associate'], None),
 'power-platform-developer-associate': (['Power Platform Developer Associate'], None),
 'azure-iot-developer-specialty': (['Azure IoT Developer Specialty'], '2024-07-31'),
 'devops-engineer': (['Azure DevOps Engineer Expert', 'DevOps Engineer Expert'], None),
 'power-platform-solution-architect-expert': (['Power Platform Solution Architect Expert'], None),
 'microsoft-365-fundamentals': (['Microsoft 365 Fundamentals'], None),
 'm365-teams-application-developer-associate': (['Teams Application Developer Associate'], None),
 'm365-teams-administrator-associate': (['Teams Administrator Associate'], None),
 'm365-messaging-administrator': (['Messaging Administrator Associate'], None),
 'identity-and-access-administrator': (['Identity and Access Administrator Associate'], None),
 'm365-collaboration-communications-systems-engineer': (['Collaboration Communications Systems Engineer Associate'], None),
 'm365-endpoint-administrator': (['Endpoint Administrator Associate', 'Modern Desktop Administrator Associate'], None),
 'm365-administrator-expert': (['Enterprise Administrator Expert'], None),
 'teams-meetings-and-meeting-rooms-technical-assessment': (['Teams Meetings and Meeting Rooms Technical Assessment'], None),
 'azure-security-engineer': (['Azure Security Engineer Associate'], None),
 'security-operations-analyst': (['Security Operations Analyst', 'Security Operations Analyst Associate'], None),
 'm365-security-administrator': (['Microsoft 365 Security Administrator Associate', 'Security Administrator Associate'], '2024-06-30'),
 'cybersecurity-architect-expert': (['Cybersecurity Architect Expert'], None),
 'information-protection-and-compliance-administrator': (['Information Protection and Compliance Administrator Associate'], None),
}
CERT_LOOKUP = {}
for cid, (names, _) in CERTS.items():
    CERT_LOOKUP[nk(cid)] = cid
    for n in names: CERT_LOOKUP[nk(n)] = cid
def cert_id(s):
    s = nk(s)
    for p in ('microsoft certified: ', 'microsoft 365 certified: '):
        if s.startswith(p): s = s[len(p):]
    return CERT_LOOKUP.get(s)

def holders(certs, pid, ids, D):
    out = set()
    for c in certs.get(pid, []):
        cid = cert_id(c['certification'])
        if cid not in ids: continue
        if not (c['earned_on'] <= D and (not c.get('expires_on') or c['expires_on'] >= D)): continue
        end = CERTS[cid][1]
        if end and D > end: continue
        out.add(c['person_id'])
    return out

def gated(certs, pid, D, steps, S, rate, mx, rounding=None, n_max=None):
    val = len(holders(certs, pid, S, D))
    ok = all(len(holders(certs, pid, P, D)) >= k for P, k in steps)
    if not ok: return val, F(0)
    if n_max: pts = F(mx) * min(val, n_max) / n_max
    else: pts = clamp(rate * val, 0, mx)
    return val, (halfup2(pts) if rounding == 'halfup' else trunc2(pts))

BAD_OFFERS = {'support', 'internal', 'benefit program', 'trial'}
AZ_ASSOC = {'csp tier 1', 'csp tier 2', 'dpor', 'pal'}
VM_EXCL = {nw(x) for x in ['Virtual Machines', 'Virtual Machines Licenses', 'Virtual Machine Licenses']}
SEC_SERVICES = {nw(x) for x in ['Advanced Data Security', 'Advanced Threat Protection', 'Application Gateway', 'Azure Active Directory B2C',
  'Azure Active Directory Domain Services', 'Azure Active Directory for External Identities', 'Azure Bastion', 'Azure DDOS Protection',
  'Azure Defender', 'Azure Firewall', 'Azure Firewall Manager', 'Azure Front Door Service', 'Azure IoT Security', 'Key Vault',
  'Network Watcher', 'Security Center', 'Sentinel']}
MW_WL = {nw(x) for x in ['Intune', 'Exchange', 'ProPlus', 'SharePoint', 'Teams', 'Teams Meetings', 'Teams Phone', 'Teams Phone calling',
  'Teams Platform', 'Yammer', 'VivaInsights', 'VivaTopics', 'VivaLearning', 'VivaConnections']}
SEC_WL = {nw(x) for x in ['Azure Active Directory Premium', 'Microsoft Defender for Office 365', 'Microsoft Defender for Endpoints',
  'Microsoft Defender for Endpoint', 'Microsoft Defender for Identity', 'Microsoft Information Protection', 'Intune']}

def ttm(X): return {madd(X, -i) for i in range(12)}

def azure_common(acr_rows, M):
    rows = [r for r in acr_rows if assoc(r['association']) in AZ_ASSOC and nk(r.get('offer')) not in BAD_OFFERS]
    per_tm = {}
    for r in rows:
        k = (r['customer_tenant_id'], r['month']); per_tm[k] = per_tm.get(k, F(0)) + F(r['acr_usd'])
    def elig(X):
        return {t for (t, m), v in per_tm.items() if m in (X, madd(X, -1)) and v >= 1000}
    L, B = madd(M, -1), madd(M, -13)
    na = len(elig(L)) - len(elig(B))
    na_p = clamp(10 * na, 0, 30)
    def q(X): w = ttm(X); return sum((F(r['acr_usd']) for r in rows if r['month'] in w), F(0))
    lat, base = q(L), q(B)
    if base <= 0: ug_v, ug_p = None, F(0)
    else:
        ug_v = trunc2((lat - base) * 100 / base)
        ug_p = F(0) if base < 1000 else clamp(trunc2(ug_v), 0, 20)
    svc = {}
    w = ttm(L)
    for r in rows:
        if r['month'] in w and nw(r['service']) not in VM_EXCL:
            k = nw(r['service']); svc[k] = svc.get(k, F(0)) + F(r['acr_usd'])
    dep = sum(1 for v in svc.values() if v > 0)
    return {'net_customer_adds': (na, na_p), 'usage_growth': (ug_v, ug_p), 'deployments': (dep, clamp(2 * dep, 0, 10))}

def finish(pid, area, mets, extra=None):
    tot = sum((p for _, p in mets.values()), F(0))
    o = {'partner_id': pid, 'solution_area': area,
         'metrics': {k: {'value': num(v), 'points': num(p)} for k, (v, p) in mets.items()},
         'total_points': num(trunc2(tot)), 'qualified': tot >= 70 and all(p > 0 for _, p in mets.values())}
    if extra: o.update(extra)
    return o, tot

def modern_work(lic_rows, certs, pid, M, D):
    rows = [dict(r, a=assoc(r['association']), w=nw(r['workload'])) for r in lic_rows if nw(r['workload']) in MW_WL]
    L, B = madd(M, -1), madd(M, -13)
    # association start per (tenant, workload, assoc)
    start = {}
    first_month = {}
    for r in rows:
        k = (r['customer_tenant_id'], r['w'], r['a'])
        first_month[k] = min(first_month.get(k, r['month']), r['month'])
        if r.get('associated_on'):
            start[k] = min(start.get(k, r['associated_on'][:7]), r['associated_on'][:7])
    for k, m in first_month.items():
        if k not in start: start[k] = m
    def is_new(k): return madd(M, -12) <= start[k] <= L
    seats = {}; au = {}
    for r in rows:
        k = (r['customer_tenant_id'], r['w'], r['a'], r['month'])
        seats[k] = seats.get(k, 0) + int(r['paid_seats']); au[k] = au.get(k, 0) + int(r['active_users'])
    tracks = {'enterprise': {'assocs': {'cpor', 'dpor'}, 'band': lambda s: s > 300,
                             'opts': [('cpor', {'cpor'}, 1000, 5), ('dpor', {'dpor'}, 4000, F(5, 2))],
                             'na_rate': 4, 'int_rate': F(5, 2), 'adv_rate': F(15, 2)},
              'smb': {'assocs': {'cpor', 'csp tier 1', 'csp tier 2'}, 'band': lambda s: 11 <= s <= 300,
                      'opts': [('cpor', {'cpor'}, 500, 5), ('csp', {'csp tier 1', 'csp tier 2'}, 2000, F(5, 2))],
                      'na_rate': 2, 'int_rate': 5, 'adv_rate': 15}}
    INT = {'microsoft-365-fundamentals', 'm365-teams-application-developer-associate', 'm365-teams-administrator-associate',
           'm365-messaging-administrator', 'identity-and-access-administrator', 'm365-collaboration-communications-systems-engineer',
           'm365-endpoint-administrator'}
    ADV = {'m365-administrator-expert', 'teams-meetings-and-meeting-rooms-technical-assessment'}
    ni, nadv = len(holders(certs, pid, INT, D)), len(holders(certs, pid, ADV, D))
    res = {}
    for tn, T in tracks.items():
        def band(t, X):
            return any(T['band'](s) for (tt, w, a, m), s in seats.items() if tt == t and m == X and a in T['assocs'])
        tenants = {k[0] for k in seats}
        na = sum(band(t, L) for t in tenants) - sum(band(t, B) for t in tenants)
        mets = {'net_customer_adds': (na, clamp(T['na_rate'] * na, 0, 20)),
                'intermediate_certifications': (ni, trunc2(clamp(T['int_rate'] * ni, 0, 10))),
                'advanced_certifications': (nadv, trunc2(clamp(T['adv_rate'] * nadv, 0, 15)))}
        # usage growth
        best = None; opts_out = {}
        for on, aset, thr, _ in T['opts']:
            lat = sum(v for (t, w, a, m), v in au.items() if a in aset and m == L and band(t, L))
            base = 0
            for k in {(t, w, a) for (t, w, a, m) in au if a in aset}:
                if is_new(k):
                    sm = start[k]; base += au.get(k + (sm,), 0) if band(k[0], sm) else 0
                else:
                    base += au.get(k + (B,), 0) if band(k[0], B) else 0
            g = lat - base; p = clamp(trunc2(F(g) / thr * 30), 0, 30)
            opts_out[on] = (g, p)
            if best is None or p > best[1]: best = (g, p)
        mets['usage_growth'] = best; ug_opts = opts_out
        best = None; opts_out = {}
        for on, aset, thr, rate in T['opts']:
            def ratio(t, X):
                s = sum(v for (tt, w, a, m), v in seats.items() if tt == t and a in aset and m == X)
                u = sum(v for (tt, w, a, m), v in au.items() if tt == t and a in aset and m == X)
                return None if s == 0 else F(u, s)
            def dep(t, X):
                r = ratio(t, X); return band(t, X) and r is not None and r >= F(2, 5)
            ts = {k[0] for k in seats if k[2] in aset}
            lat = set()
            for t in ts:
                if not dep(t, L): continue
                st = min(start[k] for k in start if k[0] == t and k[2] in aset)
                if madd(M, -12) <= st <= L:
                    r = ratio(t, st)
                    if r is not None and r > F(2, 5): continue
                lat.add(t)
            v = len(lat) - sum(dep(t, B) for t in ts)
            p = clamp(rate * v, 0, 25); opts_out[on] = (v, p)
            if best is None or p > best[1]: best = (v, p)
        mets['deployments'] = best
        order = ['net_customer_adds', 'intermediate_certifications', 'advanced_certifications', 'usage_growth', 'deployments']
        mets = {k: mets[k] for k in order}
        o, tot = finish(pid, 'modern_work', mets)
        o['_opts'] = {'usage_growth': {k: [num(a), num(b)] for k, (a, b) in ug_opts.items()},
                      'deployments': {k: [num(a), num(b)] for k, (a, b) in opts_out.items()}}
        res[tn] = (o, tot)
    e, s = res['enterprise'], res['smb']
    qual = e[0]['qualified'] or s[0]['qualified']
    if e[0]['qualified'] and s[0]['qualified']: pick = 'enterprise' if e[1] >= s[1] else 'smb'
    elif e[0]['qualified']: pick = 'enterprise'
    elif s[0]['qualified']: pick = 'smb'
    else: pick = 'enterprise' if e[1] >= s[1] else 'smb'
    out = dict(res[pick][0]); out['qualified'] = qual; out['classification'] = pick
    out['tracks'] = {k: {'metrics': v[0]['metrics'], 'total_points': v[0]['total_points'], 'qualified': v[0]['qualified'], 'opts': v[0]['_opts']} for k, v in res.items()}
    out.pop('_opts', None)
    return out

def security(acr_rows, lic_rows, certs, pid, M, D):
    L, B = madd(M, -1), madd(M, -13)
    az = [r for r in acr_rows if assoc(r['association']) == 'pal' and nk(r.get('offer')) not in BAD_OFFERS and nw(r['service']) in SEC_SERVICES]
    def tten(X):
        w = ttm(X); d = {}
        for r in az:
            if r['month'] in w: d[r['customer_tenant_id']] = d.get(r['customer_tenant_id'], F(0)) + F(r['acr_usd'])
        return d
    tl, tb = tten(L), tten(B)
    m = [r for r in lic_rows if assoc(r['association']) == 'cpor' and nw(r['workload']) in SEC_WL]
    agg = {}
    for r in m:
        k = (r['customer_tenant_id'], nw(r['workload']), r['month'])
        s, u = agg.get(k, (0, 0)); agg[k] = (s + int(r['paid_seats']), u + int(r['active_users']))
    def m_na(X): return {t for (t, w, mm), (s, u) in agg.items() if mm == X and s >= 25}
    def m_dep(X): return {t for (t, w, mm), (s, u) in agg.items() if mm == X and s >= 25 and s > 0 and F(u, s) >= F(15, 100)}
    def pu(X): return sum(min(s, u) for (t, w, mm), (s, u) in agg.items() if mm == X)
    # net adds
    va = sum(v >= 100 for v in tl.values()) - sum(v >= 100 for v in tb.values())
    vm = len(m_na(L)) - len(m_na(B))
    n = max(0, va) + max(0, vm)
    na = (n, clamp(2 * n, 0, 20))
    # skilling
    if D < '2023-12-01':
        steps = [({'azure-security-engineer'}, 1), ({'security-operations-analyst', 'm365-security-administrator'}, 1)]
        S = {'cybersecurity-architect-expert', 'security-operations-analyst', 'identity-and-access-administrator', 'information-protection-and-compliance-administrator'}
    else:
        steps = [({'azure-security-engineer'}, 2), ({'security-operations-analyst', 'm365-security-administrator'}, 2)]
        S = {'cybersecurity-architect-expert', 'identity-and-access-administrator', 'information-protection-and-compliance-administrator'}
    ic = gated(certs, pid, D, steps, S, None, 40, 'halfup', 6)
    # deployments
    da = sum(v >= 12000 for v in tl.values()) - sum(v >= 12000 for v in tb.values())
    dm = len(m_dep(L)) - len(m_dep(B))
    nd = max(0, da) + max(0, dm)
    dep = (nd, halfup2(F(20) * min(nd, 6) / 6))
    # usage growth
    ga = sum(tl.values(), F(0)) - sum(tb.values(), F(0))
    gm = pu(L) - pu(B)
    pa, pm = clamp(ga / 1250, 0, 20), clamp(F(gm) / 125, 0, 20)
    ug = (None, trunc2(min(F(20), pa + pm)))
    mets = {'net_customer_adds': na, 'intermediate_certifications': ic, 'deployments': dep, 'usage_growth': ug}
    o, _ = finish(pid, 'security', mets)
    o['metrics']['net_customer_adds']['parts'] = {'azure': {'value': va, 'points': num(clamp(2*va, 0, 20))}, 'microsoft_365': {'value': vm, 'points': num(clamp(2*vm, 0, 20))}}
    o['metrics']['deployments']['parts'] = {'azure': {'value': da, 'points': num(halfup2(F(20)*min(max(da,0),6)/6))}, 'microsoft_365': {'value': dm, 'points': num(halfup2(F(20)*min(max(dm,0),6)/6))}}
    o['metrics']['usage_growth']['parts'] = {'azure': {'value': num(ga), 'points': num(trunc2(pa))}, 'microsoft_365': {'value': gm, 'points': num(trunc2(pm))}}
    return o

def main():
    a = sys.argv[1:]; d = a[0]
    if '--month' in a:
        M = a[a.index('--month') + 1]; y, mo = map(int, M.split('-'))
        D = '%s-%02d' % (M, calendar.monthrange(y, mo)[1])
    else:
        D = a[a.index('--date') + 1]; M = D[:7] if int(D[8:10]) >= 20 else madd(D[:7], -1)
    t = {n: load(d, n) for n in ['revenue', 'usage', 'certifications', 'partners', 'acr', 'licenses']}
    pids = sorted({r['partner_id'] for rows in t.values() for r in rows})
    by = lambda n, p: [r for r in t[n] if r['partner_id'] == p]
    for p in pids:
        certs = {p: by('certifications', p)}
        acr, lic = by('acr', p), by('licenses', p)
        common = azure_common(acr, M)
        ADM, ARC = {'azure-administrator'}, {'azure-solutions-architect'}
        infra = {'net_customer_adds': common['net_customer_adds'],
                 'intermediate_certifications': gated(certs, p, D, [(ADM, 2)], {'azure-network-engineer-associate', 'azure-stack-hub-operator', 'windows-server-hybrid-administrator'}, 4, 20),
                 'advanced_certifications': gated(certs, p, D, [(ARC, 2)], {'azure-virtual-desktop-specialty', 'azure-for-sap-workloads-specialty'}, 4, 20),
                 'usage_growth': common['usage_growth'], 'deployments': common['deployments']}
        dai = {'net_customer_adds': common['net_customer_adds'],
               'intermediate_certifications': gated(certs, p, D, [(ARC, 2), (ADM, 2)], {'azure-database-administrator-associate', 'azure-ai-engineer', 'azure-data-scientist', 'azure-data-engineer', 'data-analyst-associate', 'customer-data-platform-specialty', 'azure-cosmos-db-developer-specialty'}, 4, 40),
               'usage_growth': common['usage_growth'], 'deployments': common['deployments']}
        dig = {'net_customer_adds': common['net_customer_adds'],
               'intermediate_certifications': gated(certs, p, D, [(ADM, 2)], {'azure-developer', 'power-platform-developer-associate'}, 4, 20),
               'advanced_certifications': gated(certs, p, D, [(ARC, 2)], {'azure-iot-developer-specialty', 'devops-engineer', 'power-platform-solution-architect-expert'}, 4, 20),
               'usage_growth': common['usage_growth'], 'deployments': common['deployments']}
        for area, mets in [('azure_infrastructure', infra), ('azure_data_ai', dai), ('azure_digital_app_innovation', dig)]:
            print(json.dumps(finish(p, area, mets)[0]))
        print(json.dumps(modern_work(lic, certs, p, M, D)))
        print(json.dumps(security(acr, lic, certs, p, M, D)))

main()
