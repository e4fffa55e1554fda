-- Issue 14 (national interop): the seeds' notice defaults for ORG boxes (R18), then the FHIR
-- directory feed's per-box state (R13).
--
-- R18 (the seeds' defaults): a reception in an ORG box is notified to the ORG's contact address and
-- to each linked person unless they opted out. Until now both switches were off by default; new
-- ORG boxes and new links are created with them on (src/store/accounts.ts, org-members.ts). Here
-- the default is applied to what already exists, but only where the switch was never touched.
--
-- "Never touched" vs "turned off": both are 0 in the table, so the audit trail tells them apart.
-- Every change of these switches was audited by the store (event 'account'):
--   - a member's switch: outcome 'member-notify', detail {"box": ORG login, "member": login, ...}
--   - the contact address's switch: outcome 'settings-changed', detail {"box": login,
--     "changed": [..., "notifyEach", ...]}
-- A switch with such a row keeps its value. Limit: audit rows older than retention.auditDays are
-- purged, so a switch turned on then off before that horizon reads as untouched and is turned on.

UPDATE org_members SET notify = 1
WHERE notify = 0
  AND NOT EXISTS (
    SELECT 1 FROM audit au
    JOIN accounts o ON o.id = org_members.org_id
    JOIN accounts p ON p.id = org_members.member_id
    WHERE au.event = 'account' AND au.outcome = 'member-notify'
      AND json_extract(CASE WHEN json_valid(au.detail) THEN au.detail END, '$.box') = o.login
      AND json_extract(CASE WHEN json_valid(au.detail) THEN au.detail END, '$.member') = p.login
  );

UPDATE accounts SET notify_each = 1
WHERE type = 'ORG' AND notify_each = 0
  AND NOT EXISTS (
    SELECT 1 FROM audit au
    WHERE au.event = 'account' AND au.outcome = 'settings-changed'
      AND json_extract(CASE WHEN json_valid(au.detail) THEN au.detail END, '$.box') = accounts.login
      AND instr(au.detail, '"notifyEach"') > 0
  );

-- The national directory feed in FHIR (R13, src/directory/fhir-publish.ts): each box as the
-- national directory last accepted it, per channel (`directory.fhirBase`, or '' for the files
-- only). A box whose request failed keeps its previous row, so the next run sends it again; a box
-- the channel has never accepted has no row (a new fhirBase therefore gets every box inserted).
CREATE TABLE directory_fhir_boxes (
  channel    TEXT    NOT NULL,
  address    TEXT    NOT NULL COLLATE NOCASE,
  box        TEXT    NOT NULL,               -- JSON FhirBox (src/directory/fhir-feed.ts)
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (channel, address)
);
