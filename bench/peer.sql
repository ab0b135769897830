-- peer.sql: the Business Applications Partner Capability Score in one DuckDB
-- SQL script, written from /work/shared/spec/rules.md and interface.md the
-- way an analyst would, as the peer that `pcs` is benchmarked against.
--
-- Parameters
--   getvariable('month')   the month M to score, 'YYYY-MM' (SET VARIABLE month = '2024-07')
--   {{revenue}} {{usage}} {{certifications}} {{partners}}
--                          each replaced by the runner (bench/peer.py) with the
--                          table's source: read_csv('DIR/NAME.csv', header = true,
--                          all_varchar = true, ...) or read_parquet('DIR/NAME.parquet'),
--                          or an empty relation with the required columns when the
--                          table is missing.
--
-- Output: the last statement, one row per partner appearing in any table,
-- sorted by partner_id, with the contract's fields (bench/peer.py writes it as
-- JSON lines with COPY ... (FORMAT json)).
--
-- Conventions (the project's):
--   * headers match case-insensitively with ' ', '_' and '-' alike, surrounding
--     white space ignored; extra columns are ignored;
--   * names (workloads, association types, certifications) likewise;
--   * ids are compared exactly after trimming;
--   * only rows of the latest month (M-1) and the baseline month (M-13) count,
--     but every partner in any row of any table gets a line;
--   * all money, quantities, MCV and points are DECIMAL (exact), the usage growth
--     percentage is an exact integer division truncated toward zero.
--
-- Each table is scanned once (see "one pass per table" below).

-- Names (workloads, association types, certifications): trimmed, case folded,
-- ' ', '_' and '-' alike (all become ' ').
CREATE OR REPLACE TEMP MACRO norm_name(x) AS
    replace(replace(lower(trim(CAST(x AS VARCHAR), ' ' || chr(9) || chr(10) || chr(13))), '_', ' '), '-', ' ');

-- Ids and months: trimmed. trim() with a list of characters is slow in DuckDB,
-- so it is only called when the text starts or ends with a space or a control
-- character.
CREATE OR REPLACE TEMP MACRO norm_id(x) AS
    CASE WHEN left(CAST(x AS VARCHAR), 1) > ' ' AND right(CAST(x AS VARCHAR), 1) > ' '
         THEN CAST(x AS VARCHAR)
         ELSE trim(CAST(x AS VARCHAR), ' ' || chr(9) || chr(10) || chr(13)) END;

WITH
-- ------------------------------------------------------------------ calendar
params AS (
    SELECT
        getvariable('month')                                            AS month,
        strftime(m1 - INTERVAL 1 MONTH, '%Y-%m')                        AS latest_month,
        strftime(m1 - INTERVAL 13 MONTH, '%Y-%m')                       AS baseline_month,
        last_day(m1)                                                    AS eval_date
    FROM (SELECT CAST(getvariable('month') || '-01' AS DATE) AS m1)
),

-- ------------------------------------------------------------------ rulebook data
-- Per-classification figures of every metric.
rules(classification, nca_threshold, nca_per_pair, nca_max,
      int_per_person, int_max,
      adv_per_person, adv_full_at, adv_max,
      growth_baseline_min, growth_max,
      dep_threshold, dep_per_pair, dep_max) AS (
    VALUES
    ('enterprise', 1500, 3, 15,  1.00, 20,  2.14, 7, 15,  50000, 30,  10000, 4, 20),
    ('smb',         250, 3, 15,  4.00, 20,  7.50, 2, 15,  25000, 30,   5000, 4, 20)
),
classification_rules(pair_revenue_above, enterprise_min_pairs) AS (VALUES (5000, 5)),
qualification_rules(min_total) AS (VALUES (70)),

-- Association types and their other spellings.
association(name, spelling) AS (
    VALUES
    ('CPOR RevRec', 'CPOR RevRec'),
    ('CPOR OSA', 'CPOR OSA'),
    ('CPOR RevRec Performance', 'CPOR RevRec Performance'),
    ('CSP Tier 1', 'CSP Tier 1'),
    ('CSP Tier 2', 'CSP Tier 2'),
    ('DPOR', 'DPOR'),
    ('DPOR', 'Digital Partner of Record'),
    ('PAL', 'PAL'),
    ('PAL', 'Partner Admin Link'),
    ('CPOR OSU', 'CPOR OSU')
),
association_key AS (
    SELECT norm_name(spelling) AS key, name FROM association
),

-- Performance (revenue): workloads, their aliases, and the association types that count.
perf_workload(name, spelling) AS (
    VALUES
    ('AI Builder', 'AI Builder'),
    ('Business Central', 'Business Central'),
    ('CE Bundle', 'CE Bundle'),
    ('Commerce', 'Commerce'),
    ('Customer Insights', 'Customer Insights'),
    ('Customer Service', 'Customer Service'),
    ('F&O Bundle', 'F&O Bundle'),
    ('Field Service', 'Field Service'),
    ('Finance', 'Finance'),
    ('Fraud Protection', 'Fraud Protection'),
    ('HR (Human Resources)', 'HR (Human Resources)'),
    ('HR (Human Resources)', 'HR'),
    ('HR (Human Resources)', 'Human Resources'),
    ('Intelligent Order Management', 'Intelligent Order Management'),
    ('Marketing', 'Marketing'),
    ('Mixed Reality', 'Mixed Reality'),
    ('Omni Channel', 'Omni Channel'),
    ('Power Apps', 'Power Apps'),
    ('Power Automate', 'Power Automate'),
    ('Power BI', 'Power BI'),
    ('Power Pages', 'Power Pages'),
    ('Power Virtual Agent', 'Power Virtual Agent'),
    ('Power Virtual Agent', 'Power Virtual Agents'),
    ('Project Operations', 'Project Operations'),
    ('Sales', 'Sales'),
    ('Supply Chain', 'Supply Chain'),
    ('Non-workload specific', 'Non-workload specific')
),
perf_workload_key AS (
    SELECT norm_name(spelling) AS key, name FROM perf_workload
),
perf_association(name) AS (
    VALUES ('CPOR RevRec'), ('CPOR OSA'), ('CPOR RevRec Performance'),
           ('CSP Tier 1'), ('CSP Tier 2'), ('DPOR')
),

-- Customer success (usage): the rate card (rate NULL: known, no rate), families,
-- the spellings of each rate-card workload (aliases and rolled-up products).
usage_workload(name, family, rate) AS (
    VALUES
    ('Business Central',     'dynamics_365',                         1000.0),
    ('Core HR',              'dynamics_365',                         1000.0),
    ('Customer Engagement',  'dynamics_365',                          200.0),
    ('Customer Insights',    'power_platform_and_customer_insights',    0.2),
    ('Finance & Operations', 'dynamics_365',                          100.0),
    ('Guides',               'dynamics_365',                         1000.0),
    ('Portals',              'power_platform_and_customer_insights',   NULL),
    ('Power Apps',           'power_platform_and_customer_insights',  200.0),
    ('Power Automate',       'power_platform_and_customer_insights',  200.0),
    ('Power BI',             'power_platform_and_customer_insights',  200.0),
    ('Remote Assist',        'dynamics_365',                         1000.0),
    ('Retail',               'dynamics_365',                          100.0),
    ('Talent Attract',       'dynamics_365',                         1000.0),
    ('Talent Onboard',       'dynamics_365',                         1000.0)
),
usage_spelling(name, spelling) AS (
    SELECT name, name FROM usage_workload
    UNION ALL
    VALUES
    -- aliases
    ('Customer Engagement',  'Common data service (Customer Engagement)'),
    ('Customer Insights',    'Customer Insights Partner'),
    ('Power Apps',           'Power App'),
    -- roll-ups: products whose usage is the workload's usage
    ('Customer Engagement',  'Sales'),
    ('Customer Engagement',  'Sales Insights'),
    ('Customer Engagement',  'Customer Service'),
    ('Customer Engagement',  'Field Service'),
    ('Finance & Operations', 'Finance'),
    ('Finance & Operations', 'Project Operations')
),
usage_workload_key AS (
    SELECT norm_name(s.spelling) AS key, w.name, w.family, CAST(w.rate AS DECIMAL(9, 1)) AS rate
    FROM usage_spelling s JOIN usage_workload w USING (name)
),
family_association(family, association) AS (
    VALUES
    ('dynamics_365', 'CPOR OSU'),
    ('dynamics_365', 'DPOR'),
    ('dynamics_365', 'CSP Tier 1'),
    ('dynamics_365', 'CSP Tier 2'),
    ('power_platform_and_customer_insights', 'PAL')
),

-- Certifications: Learn id, full name without the optional prefix, level, last
-- eligible day (NULL: no window).
certification(id, name, level, eligible_until) AS (
    VALUES
    ('d365-functional-consultant-financials', 'Dynamics 365 Finance Functional Consultant Associate', 'intermediate', NULL),
    ('d365-functional-consultant-commerce', 'Dynamics 365 Commerce Functional Consultant Associate', 'intermediate', NULL),
    ('d365-finance-and-operations-apps-developer-associate', 'Dynamics 365: Finance and Operations Apps Developer Associate', 'intermediate', NULL),
    ('d365-functional-consultant-supply-chain-management', 'Dynamics 365 Supply Chain Management Functional Consultant Associate', 'intermediate', NULL),
    ('d365-functional-consultant-manufacturing', 'Dynamics 365 Supply Chain Management, Manufacturing Functional Consultant Associate', 'intermediate', NULL),
    ('d365-functional-consultant-customer-service', 'Dynamics 365 Customer Service Functional Consultant Associate', 'intermediate', DATE '2024-06-30'),
    ('d365-functional-consultant-sales', 'Dynamics 365 Sales Functional Consultant Associate', 'intermediate', NULL),
    ('d365-functional-consultant-field-service', 'Dynamics 365 Field Service Functional Consultant Associate', 'intermediate', NULL),
    ('d365-business-central-functional-consultant-associate', 'Dynamics 365 Business Central Functional Consultant Associate', 'intermediate', NULL),
    ('d365-functional-consultant-marketing', 'Dynamics 365 Marketing Functional Consultant Associate', 'intermediate', NULL),
    ('power-platform-app-maker', 'Power Platform App Maker Associate', 'intermediate', DATE '2023-11-30'),
    ('data-analyst-associate', 'Data Analyst Associate', 'intermediate', NULL),
    ('power-platform-functional-consultant-associate', 'Power Platform Functional Consultant Associate', 'intermediate', NULL),
    ('power-platform-developer-associate', 'Power Platform Developer Associate', 'intermediate', NULL),
    ('customer-data-platform-specialty', 'Customer Data Platform Specialty', 'intermediate', NULL),
    ('azure-enterprise-data-analyst-associate', 'Azure Enterprise Data Analyst Associate', 'intermediate', NULL),
    ('power-automate-rpa-developer-associate', 'Power Automate RPA Developer Associate', 'intermediate', NULL),
    ('d365-supply-chain-management-functional-consultant-expert', 'Dynamics 365 Supply Chain Management Functional Consultant Expert', 'advanced', NULL),
    ('d365-finance-and-operations-apps-solution-architect-expert', 'Dynamics 365: Finance and Operations Apps Solution Architect Expert', 'advanced', NULL),
    ('power-apps-and-d365-solution-architect-expert', 'Dynamics 365 + Power Platform Solution Architect Expert', 'advanced', DATE '2023-06-30'),
    ('power-platform-solution-architect-expert', 'Power Platform Solution Architect Expert', 'advanced', NULL)
),
certification_key AS (
    SELECT norm_name(spelling) AS key, level, eligible_until
    FROM certification,
         LATERAL (VALUES (id), (name), ('Microsoft Certified: ' || name)) AS s(spelling)
),

-- ------------------------------------------------------------------ the four tables
-- Columns picked by normalised header name. An optional column may be absent:
-- the NULL pad column stands in for it.
revenue_in AS (
    SELECT
        COLUMNS(lambda c: norm_name(c) = 'partner id')          AS partner_id,
        COLUMNS(lambda c: norm_name(c) = 'customer tenant id')  AS customer_tenant_id,
        COLUMNS(lambda c: norm_name(c) = 'workload')            AS workload,
        COLUMNS(lambda c: norm_name(c) = 'month')               AS month,
        COLUMNS(lambda c: norm_name(c) = 'revenue usd')         AS revenue_usd,
        COLUMNS(lambda c: norm_name(c) = 'association')         AS association
    FROM {{revenue}}
),
usage_in AS (
    SELECT
        COLUMNS(lambda c: norm_name(c) = 'partner id')          AS partner_id,
        COLUMNS(lambda c: norm_name(c) = 'customer tenant id')  AS customer_tenant_id,
        COLUMNS(lambda c: norm_name(c) = 'workload')            AS workload,
        COLUMNS(lambda c: norm_name(c) = 'month')               AS month,
        COLUMNS(lambda c: norm_name(c) = 'quantity')            AS quantity,
        COLUMNS(lambda c: norm_name(c) = 'association')         AS association
    FROM {{usage}}
),
certifications_in AS (
    SELECT
        COLUMNS(lambda c: norm_name(c) = 'partner id')          AS partner_id,
        COLUMNS(lambda c: norm_name(c) = 'person id')           AS person_id,
        COLUMNS(lambda c: norm_name(c) = 'certification')       AS certification,
        COLUMNS(lambda c: norm_name(c) = 'earned on')           AS earned_on,
        coalesce(*COLUMNS(lambda c: norm_name(c) = 'expires on' OR c = '__no_expires_on')) AS expires_on
    FROM (SELECT *, NULL AS __no_expires_on FROM {{certifications}})
),
partners_in AS (
    SELECT COLUMNS(lambda c: norm_name(c) = 'partner id') AS partner_id
    FROM {{partners}}
),

-- ------------------------------------------------------------------ one pass per table
-- Each table is scanned once. Its rows are typed (every number and date is
-- parsed, as a typed read would) and grouped on their raw text: the rows of the
-- latest and baseline months (certifications: held on D) by all the keys that
-- matter, every other row into one group per partner (so that the partner
-- still gets a line). Names are normalised and mapped on these groups, not on
-- every row, and the groups are then summed again by canonical name.

-- revenue: eligible amount per (partner, tenant, workload, month) of the two months
revenue_groups AS MATERIALIZED (
    SELECT
        partner_id,
        CASE WHEN in_months THEN customer_tenant_id END         AS tenant,
        CASE WHEN in_months THEN workload END                   AS workload,
        CASE WHEN in_months THEN association END                AS association,
        CASE WHEN in_months THEN month END                      AS month,
        sum(amount) FILTER (WHERE in_months)                    AS amount
    FROM (
        SELECT r.*,
               CAST(r.revenue_usd AS DECIMAL(38, 6))            AS amount,
               norm_id(r.month) IN (p.latest_month, p.baseline_month) AS in_months
        FROM revenue_in r CROSS JOIN params p
    )
    GROUP BY ALL
),
-- usage: eligible quantity per (partner, tenant, rate-card workload, month) of the two months
usage_groups AS MATERIALIZED (
    SELECT
        partner_id,
        CASE WHEN in_months THEN customer_tenant_id END         AS tenant,
        CASE WHEN in_months THEN workload END                   AS workload,
        CASE WHEN in_months THEN association END                AS association,
        CASE WHEN in_months THEN month END                      AS month,
        sum(qty) FILTER (WHERE in_months)                       AS quantity
    FROM (
        SELECT u.*,
               CAST(u.quantity AS DECIMAL(38, 6))               AS qty,
               norm_id(u.month) IN (p.latest_month, p.baseline_month) AS in_months
        FROM usage_in u CROSS JOIN params p
    )
    GROUP BY ALL
),
-- certifications: rows held on D (earned on or before D, not expired before D)
certification_groups AS MATERIALIZED (
    SELECT
        partner_id,
        CASE WHEN held THEN person_id END                       AS person_id,
        CASE WHEN held THEN certification END                   AS certification
    FROM (
        SELECT c.*,
               CAST(c.earned_on AS DATE) <= p.eval_date
                 AND coalesce(CAST(nullif(norm_id(c.expires_on), '') AS DATE) >= p.eval_date, true) AS held
        FROM certifications_in c CROSS JOIN params p
    )
    GROUP BY ALL
),
-- every distinct name text of those groups, normalised once
name_key AS (
    SELECT raw, norm_name(raw) AS key
    FROM (
        SELECT workload AS raw FROM revenue_groups
        UNION SELECT association FROM revenue_groups
        UNION SELECT workload FROM usage_groups
        UNION SELECT association FROM usage_groups
        UNION SELECT certification FROM certification_groups
    )
    WHERE raw IS NOT NULL
),
revenue_pairs AS (
    SELECT
        norm_id(g.partner_id)                                   AS partner_id,
        norm_id(g.tenant)                                       AS tenant,
        w.name                                                  AS workload,
        norm_id(g.month)                                        AS month,
        sum(g.amount)                                           AS amount
    FROM revenue_groups g
    JOIN name_key nw ON nw.raw = g.workload
    JOIN perf_workload_key w ON w.key = nw.key
    JOIN name_key na ON na.raw = g.association
    JOIN association_key a ON a.key = na.key
    JOIN perf_association pa ON pa.name = a.name
    GROUP BY ALL
),
usage_pairs AS (             -- MCV after roll-up; workloads without a rate count for nothing
    SELECT
        norm_id(g.partner_id)                                   AS partner_id,
        norm_id(g.tenant)                                       AS tenant,
        w.name                                                  AS workload,
        norm_id(g.month)                                        AS month,
        sum(g.quantity) * any_value(w.rate)                     AS mcv
    FROM usage_groups g
    JOIN name_key nw ON nw.raw = g.workload
    JOIN usage_workload_key w ON w.key = nw.key
    JOIN name_key na ON na.raw = g.association
    JOIN association_key a ON a.key = na.key
    JOIN family_association fa ON fa.family = w.family AND fa.association = a.name
    WHERE w.rate IS NOT NULL
    GROUP BY ALL
),
certified_people AS (        -- distinct people with an eligible certification on D, per level
    SELECT
        partner_id,
        count(DISTINCT person_id) FILTER (WHERE level = 'intermediate') AS intermediate,
        count(DISTINCT person_id) FILTER (WHERE level = 'advanced')     AS advanced
    FROM (
        SELECT norm_id(g.partner_id) AS partner_id, norm_id(g.person_id) AS person_id, k.level
        FROM certification_groups g
        CROSS JOIN params p
        JOIN name_key nc ON nc.raw = g.certification
        JOIN certification_key k ON k.key = nc.key
        WHERE k.eligible_until IS NULL OR p.eval_date <= k.eligible_until
    )
    GROUP BY partner_id
),
listed_partners AS (
    SELECT DISTINCT norm_id(partner_id) AS partner_id FROM partners_in
),

-- ------------------------------------------------------------------ per partner
all_partners AS (
    SELECT norm_id(partner_id) AS partner_id FROM revenue_groups
    UNION SELECT norm_id(partner_id) FROM usage_groups
    UNION SELECT norm_id(partner_id) FROM certification_groups
    UNION SELECT partner_id FROM listed_partners
),
revenue_by_pair AS (         -- (tenant, workload): amount in the latest and baseline months
    SELECT
        r.partner_id, r.tenant, r.workload,
        coalesce(sum(r.amount) FILTER (WHERE r.month = p.latest_month), 0)   AS latest,
        coalesce(sum(r.amount) FILTER (WHERE r.month = p.baseline_month), 0) AS baseline
    FROM revenue_pairs r CROSS JOIN params p
    GROUP BY ALL
),
classified AS (
    SELECT
        a.partner_id,
        CASE WHEN count(b.partner_id) FILTER (
                     WHERE b.latest > cr.pair_revenue_above AND b.baseline > cr.pair_revenue_above
                 ) >= cr.enterprise_min_pairs
             THEN 'enterprise' ELSE 'smb' END                   AS classification
    FROM all_partners a
    CROSS JOIN classification_rules cr
    LEFT JOIN revenue_by_pair b USING (partner_id)
    GROUP BY a.partner_id, cr.enterprise_min_pairs
),
net_customer_adds AS (
    SELECT
        b.partner_id,
        count(*) FILTER (WHERE b.latest >= r.nca_threshold)
          - count(*) FILTER (WHERE b.baseline >= r.nca_threshold) AS value
    FROM revenue_by_pair b
    JOIN classified c USING (partner_id)
    JOIN rules r USING (classification)
    GROUP BY b.partner_id
),
usage_by_pair AS (           -- deployments and MCV totals
    SELECT
        u.partner_id,
        count(*) FILTER (WHERE u.month = p.latest_month AND u.mcv >= r.dep_threshold)
          - count(*) FILTER (WHERE u.month = p.baseline_month AND u.mcv >= r.dep_threshold) AS deployments,
        coalesce(sum(u.mcv) FILTER (WHERE u.month = p.latest_month), 0)   AS latest_mcv,
        coalesce(sum(u.mcv) FILTER (WHERE u.month = p.baseline_month), 0) AS baseline_mcv
    FROM usage_pairs u
    CROSS JOIN params p
    JOIN classified c USING (partner_id)
    JOIN rules r USING (classification)
    GROUP BY u.partner_id
),
metric_values AS (
    SELECT
        a.partner_id,
        c.classification,
        coalesce(n.value, 0)                                    AS nca_value,
        coalesce(cp.intermediate, 0)                            AS int_value,
        coalesce(cp.advanced, 0)                                AS adv_value,
        CAST(coalesce(u.latest_mcv, 0) AS DECIMAL(38, 7))       AS latest_mcv,
        CAST(coalesce(u.baseline_mcv, 0) AS DECIMAL(38, 7))     AS baseline_mcv,
        coalesce(u.deployments, 0)                              AS dep_value
    FROM all_partners a
    JOIN classified c USING (partner_id)
    LEFT JOIN net_customer_adds n USING (partner_id)
    LEFT JOIN certified_people cp USING (partner_id)
    LEFT JOIN usage_by_pair u USING (partner_id)
),
with_growth AS (
    SELECT
        v.*,
        -- (latest - baseline) / baseline * 100, truncated toward zero to 2 decimals,
        -- exactly: an integer division of the MCVs scaled to integers.
        CASE WHEN v.baseline_mcv = 0 THEN NULL
             ELSE CAST(
                    (CAST((v.latest_mcv - v.baseline_mcv) * 10000000 AS HUGEINT) * 10000)
                      // CAST(v.baseline_mcv * 10000000 AS HUGEINT)
                  AS DECIMAL(38, 0)) * 0.01
        END                                                     AS growth_value
    FROM metric_values v
),
scored AS (
    SELECT
        g.*,
        CAST(greatest(0, least(r.nca_max, g.nca_value * r.nca_per_pair)) AS DECIMAL(38, 2))  AS nca_points,
        CAST(least(r.int_max, g.int_value * r.int_per_person) AS DECIMAL(38, 2))             AS int_points,
        CAST(CASE WHEN g.adv_value >= r.adv_full_at THEN r.adv_max
                  ELSE least(r.adv_max, g.adv_value * r.adv_per_person) END AS DECIMAL(38, 2)) AS adv_points,
        CAST(CASE WHEN g.growth_value IS NULL OR g.baseline_mcv < r.growth_baseline_min THEN 0
                  ELSE greatest(0, least(r.growth_max, g.growth_value)) END AS DECIMAL(38, 2)) AS growth_points,
        CAST(greatest(0, least(r.dep_max, g.dep_value * r.dep_per_pair)) AS DECIMAL(38, 2))  AS dep_points,
        r.nca_max, r.int_max, r.adv_max, r.growth_max, r.dep_max
    FROM with_growth g
    JOIN rules r USING (classification)
)
SELECT
    s.partner_id,
    'business_applications'                                     AS solution_area,
    p.month                                                     AS month,
    p.latest_month                                              AS latest_month,
    p.baseline_month                                            AS baseline_month,
    strftime(p.eval_date, '%Y-%m-%d')                           AS evaluation_date,
    s.classification,
    {
        'net_customer_adds':           {'value': s.nca_value, 'points': s.nca_points, 'max_points': s.nca_max},
        'intermediate_certifications': {'value': s.int_value, 'points': s.int_points, 'max_points': s.int_max},
        'advanced_certifications':     {'value': s.adv_value, 'points': s.adv_points, 'max_points': s.adv_max},
        'usage_growth':                {'value': CAST(s.growth_value AS DECIMAL(38, 2)), 'points': s.growth_points,
                                        'max_points': s.growth_max,
                                        'latest_mcv': s.latest_mcv, 'baseline_mcv': s.baseline_mcv},
        'deployments':                 {'value': s.dep_value, 'points': s.dep_points, 'max_points': s.dep_max}
    }                                                           AS metrics,
    s.nca_points + s.int_points + s.adv_points + s.growth_points + s.dep_points AS total_points,
    s.nca_points + s.int_points + s.adv_points + s.growth_points + s.dep_points >= q.min_total
        AND s.nca_points > 0 AND s.int_points > 0 AND s.adv_points > 0
        AND s.growth_points > 0 AND s.dep_points > 0            AS qualified
FROM scored s
CROSS JOIN params p
CROSS JOIN qualification_rules q
ORDER BY s.partner_id
