#!/usr/bin/env python3
"""Generate the benign "day in a hospital" baseline corpus.

Writes one NDJSON fixture per log source into test-events/baseline/. Every
file starts with a `stetho_fixture` header marked `benign: true`, so
`stetho test` fails any rule that fires on it.

The output is fully deterministic: a fixed random seed, every timestamp on
2025-03-17 (UTC, which is GMT on that date), and no use of the wall clock.
Only synthetic identifiers are produced: NHS numbers from the never-issued
999 range with valid Modulus 11 check digits, documentation IP ranges for
public addresses, RFC 1918 addresses inside the trust, `.example` domains and
fake NHSmail local parts.

Usage (from anywhere):  python3 scripts/baseline/generate.py
"""

import hashlib
import json
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20250317
DAY = datetime(2025, 3, 17, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "test-events" / "baseline"
LISTS = ROOT / "lists"

rng = random.Random(SEED)


# ---------------------------------------------------------------- helpers --

def ts(sec):
    """ISO timestamp for `sec` seconds after midnight on the baseline day."""
    ms = int(round(float(sec) * 1000))
    if not 0 <= ms < 86400 * 1000:
        raise ValueError("time outside the baseline day: %r seconds" % sec)
    t = DAY + timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def hms(h, m=0, s=0):
    return h * 3600 + m * 60 + s


def load_list(name):
    out = []
    for line in (LISTS / name).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def nhs_check_digit(nine):
    total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def nhs_valid(ten):
    if len(ten) != 10 or not ten.isdigit() or len(set(ten)) == 1:
        return False
    return nhs_check_digit(ten[:9]) == int(ten[9])


_nhs_seq = [300000]


def next_nhs_number():
    """Next checksum-valid NHS number of the never-issued 999 range."""
    while True:
        _nhs_seq[0] += 1
        nine = "999%06d" % _nhs_seq[0]
        c = nhs_check_digit(nine)
        if c is not None:
            return nine + str(c)


_CANDIDATE = re.compile(r"(?<!\d)(\d{10}|\d{3}[ -]\d{3}[ -]\d{4})(?!\d)")


def unsafe_numbers(text):
    """Checksum-valid NHS-number look-alikes outside the 999 range."""
    bad = []
    for m in _CANDIDATE.finditer(text):
        digits = re.sub(r"\D", "", m.group(1))
        if nhs_valid(digits) and not digits.startswith("999"):
            bad.append(m.group(1))
    return bad


def hexid(*parts, n=40):
    """Deterministic hex string; never holds a ten-digit run."""
    salt = 0
    while True:
        h = hashlib.sha256(("|".join(map(str, parts)) + "#%d" % salt).encode()).hexdigest()
        while len(h) < n:
            h += hashlib.sha256(h.encode()).hexdigest()
        h = h[:n]
        if not re.search(r"\d{10}", h):
            return h
        salt += 1


def guid(*parts):
    h = hexid("guid", *parts, n=32)
    return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) % 4], h[17:20], h[20:32])


def pick(seq):
    return rng.choice(seq)


def day_time(start_h, end_h):
    """Random second between two hours (end exclusive)."""
    return rng.uniform(start_h * 3600, end_h * 3600)


def work_time():
    """A time weighted towards the working day."""
    r = rng.random()
    if r < 0.80:
        return day_time(8, 18)
    if r < 0.92:
        return day_time(18, 22)
    if r < 0.97:
        return day_time(6, 8)
    return day_time(0, 6) if rng.random() < 0.5 else day_time(22, 24)


_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::\d+)?$")
_EMAIL = re.compile(r"(?<![<\w.%+-])[A-Za-z0-9._%+-]+@([A-Za-z0-9.-]+)")
_DOMAIN = re.compile(r"(?<![\w.-])(?:[a-z0-9-]+\.)+(?:com|org|net|uk|io|nz|gov|edu)(?![\w.-])", re.I)


def _strings(value, key=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)
    elif isinstance(value, str):
        yield key, value


def synthetic_problems(event):
    """Addresses and domains that are not from the reserved, documentation or fake ranges."""
    bad = []
    for key, text in _strings(event):
        if key.startswith("ProcessVersionInfo"):
            continue                     # PE version metadata (versions, vendor names)
        m = _IPV4.match(text)
        if m:
            a, b, c, d = (int(x) for x in m.groups())
            if not (a == 10 or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168) or a == 127
                    or (a, b, c) in ((192, 0, 2), (198, 51, 100), (203, 0, 113))):
                bad.append(text)
        for m in _EMAIL.finditer(text):
            domain = m.group(1).lower()
            local = m.group(0).split("@")[0].lower()
            if domain == "nhs.net":
                if "example" not in local:
                    bad.append(m.group(0))
            elif not domain.endswith(".example") and not (key == "msh.sender" or key.startswith("msh.receiv")):
                bad.append(m.group(0))
        for m in _DOMAIN.finditer(text):
            if m.group(0).lower() != "nhs.net":
                bad.append(m.group(0))
    return bad


def write_fixture(name, schema, logsource, description, events, time_key):
    events = sorted(events, key=lambda e: e[time_key])
    header = {"stetho_fixture": {"schema": schema, "logsource": logsource,
                                 "description": description, "benign": True}}
    lines = [json.dumps(header, ensure_ascii=False, separators=(",", ":"))]
    for e in events:
        lines.append(json.dumps(e, ensure_ascii=False, separators=(",", ":")))
    text = "\n".join(lines) + "\n"
    bad = unsafe_numbers(text)
    if bad:
        sys.exit("%s: checksum-valid NHS number look-alikes outside 999: %s" % (name, bad[:5]))
    bad = [x for e in events for x in synthetic_problems(e)]
    if bad:
        sys.exit("%s: non-synthetic addresses or domains: %s" % (name, sorted(set(bad))[:8]))
    if "2025-03-17" not in text:
        sys.exit("%s: no events" % name)
    for e in events:
        if not e[time_key].startswith("2025-03-17T"):
            sys.exit("%s: timestamp off the baseline day: %s" % (name, e[time_key]))
    (OUT / name).write_text(text, encoding="utf-8", newline="\n")
    return len(events)


# ------------------------------------------------------------------ cast --

SITES = {
    "RZZ01": "Example General Hospital",
    "RZZ05": "Example Community Hospital",
}


class Person:
    def __init__(self, key, name, upn_local, sam, uid, role, role_code, dept,
                 host, ip, site="RZZ01", night=False):
        self.key = key
        self.name = name                      # "Nurse Example01"
        self.upn = upn_local + "@nhs.net"     # "nurse.example01@nhs.net"
        self.sam = sam                        # "nurse.example01"
        self.uid = uid                        # EPR user id "u20410"
        self.role = role
        self.role_code = role_code
        self.dept = dept
        self.host = host                      # short workstation name
        self.fqdn = host + ".trust.example"
        self.ip = ip
        self.site = site
        self.night = night
        self.surname = "Example"
        self.address_key = "a" + hexid("addr", key, n=5)
        self.cis2_uid = "91%010d" % (int(hexid("cis2", key, n=12), 16) % 10**10)
        self.cis2_role = "55%010d" % (int(hexid("role", key, n=12), 16) % 10**10)
        self.entra_id = guid("entra", key)
        self.sid = "S-1-5-21-1004336348-1177238915-682003330-%d" % (1100 + int(hexid("sid", key, n=6), 16) % 8000)
        self.device_id = hexid("device", host)
        self.home_ip = "198.51.100.%d" % (10 + int(hexid("home", key, n=4), 16) % 90)


def _people():
    p = []
    add = lambda *a, **k: p.append(Person(*a, **k))
    add("cons06", "Consultant Example06", "consultant.example06", "consultant.example06", "u00777",
        "consultant", "R8000", "Emergency Department", "ed-cw-0412", "10.20.4.12")
    add("hca07", "HCA Example07", "hca.example07", "hca.example07", "u10021",
        "hca", "R8008", "Outpatients", "op-cw-0021", "10.20.3.21")
    add("nurse01", "Nurse Example01", "nurse.example01", "nurse.example01", "u20410",
        "nurse", "R8001", "Ward 7", "wd7-cw-0031", "10.20.7.31")
    add("pharm08", "Pharmacist Example08", "pharmacist.example08", "pharmacist.example08", "u30122",
        "pharmacist", "R1290", "Pharmacy", "pha-cw-0008", "10.20.12.8")
    add("reg04", "Registrar Example04", "registrar.example04", "registrar.example04", "u40210",
        "doctor", "R8003", "Maternity", "mat-cw-0044", "10.20.9.44")
    add("nurse02", "Nurse Example02", "nurse.example02", "nurse.example02", "u20451",
        "nurse", "R8001", "Ward 7", "wd7-cw-0032", "10.20.7.32", night=True)
    add("clerk03", "Ward Clerk Example03", "wardclerk.example03", "wardclerk.example03", "u40113",
        "clerk", "R8010", "Ward 7", "wd7-cw-0033", "10.20.7.33")
    add("rad02", "Radiologist Example02", "radiologist.example02", "radiologist.example02", "u00512",
        "radiologist", "R8000", "Radiology", "rad-rp-0102", "10.30.2.51")
    add("rad05", "Radiologist Example05", "radiologist.example05", "radiologist.example05", "u00518",
        "radiologist", "R8000", "Radiology", "rad-rp-0108", "10.30.2.58")
    add("mid12", "Midwife Example12", "midwife.example12", "midwife.example12", "u21044",
        "midwife", "R8002", "Maternity", "mat-cw-0045", "10.20.9.45")
    add("physio09", "Physio Example09", "physio.example09", "physio.example09", "u22090",
        "ahp", "R8004", "Therapies", "physio-cw-0007", "10.64.2.17", site="RZZ05")
    add("dn14", "District Nurse Example14", "districtnurse.example14", "districtnurse.example14", "u20988",
        "nurse", "R8001", "Community Nursing", "cc-cw-0222", "10.64.2.22", site="RZZ05")
    add("theatre06", "Theatre Coordinator Example06", "theatre.example06", "theatre.example06", "u23006",
        "nurse", "R8001", "Theatres", "theatre-cw-0009", "10.20.15.9")
    add("bms05", "Biomedical Scientist Example05", "biomedical.example05", "biomedical.example05", "u24005",
        "scientist", "R8006", "Pathology", "path-cw-0007", "10.20.20.7")
    add("fin11", "Finance Officer Example11", "fin.example11", "fin.example11", "u50011",
        "admin", "R8010", "Finance", "fin-cw-0002", "10.20.50.21")
    add("coder13", "Clinical Coder Example13", "coder.example13", "coder.example13", "u50013",
        "admin", "R8010", "Clinical Coding", "coding-cw-0014", "10.20.6.14")
    add("matron02", "Matron Example02", "matron.example02", "matron.example02", "u20002",
        "nurse", "R8001", "Ward 7", "wd7-cw-0034", "10.20.7.34")
    add("recep25", "Receptionist Example25", "receptionist.example25", "receptionist.example25", "u30998",
        "clerk", "R8009", "Reception", "rec-cw-0005", "10.20.2.5")
    add("itsup02", "IT Support Example02", "itsupport.example02", "itsupport.example02", "u60002",
        "it", "R8010", "IT Service Desk", "it-lt-0005", "10.20.30.5")
    add("pa10", "PA Example10", "pa.example10", "pa.example10", "u50010",
        "admin", "R8010", "Corporate", "corp-cw-0040", "10.20.9.40")
    return p


PEOPLE = _people()
BY_KEY = {p.key: p for p in PEOPLE}
CLINICAL = [p for p in PEOPLE if p.role in ("consultant", "hca", "nurse", "pharmacist", "doctor",
                                             "radiologist", "midwife", "ahp", "scientist")]


class Patient:
    def __init__(self, i):
        self.mrn = "MRN%07d" % (80000 + i)
        self.nhs = next_nhs_number()
        self.surname = "Testpatient"
        self.address_key = "b" + hexid("paddr", i, n=5)
        self.flags = []


PATIENTS = [Patient(i) for i in range(900)]
for _i in (17, 211, 480):
    PATIENTS[_i].flags = ["vip"]
PATIENTS[333].flags = ["restricted"]
PATIENTS[612].flags = ["staff"]


# ------------------------------------------------------------------- EHR --

EHR_MODULES = {
    "view": ["Chart", "Results", "Medication", "Observations", "Notes", "Orders", "Demographics", "Letters"],
    "update": ["Observations", "Notes", "Medication", "Orders", "Fluid Balance"],
    "print": ["Letters", "Medication", "Results", "Discharge Summary"],
}


def ehr_event(t, who, patient, action, module=None, care=True, break_glass=False, reason=""):
    return {
        "TimeGenerated": ts(t),
        "ehr.system": "EPR",
        "ehr.action": action,
        "ehr.module": module or pick(EHR_MODULES.get(action, ["Chart"])),
        "user.id": who.uid,
        "user.name": who.name,
        "user.role_code": who.role_code,
        "user.department": who.dept,
        "user.surname": who.surname,
        "user.address_key": who.address_key,
        "user.on_shift": True,
        "patient.id": patient.mrn if patient else "",
        "patient.nhs_number": patient.nhs if patient else "",
        "patient.surname": patient.surname if patient else "",
        "patient.address_key": patient.address_key if patient else "",
        "patient.flags": list(patient.flags) if patient else [],
        "access.break_glass": break_glass,
        "access.break_glass_reason": reason,
        "access.care_relationship": care,
        "access.record_count": 1,
        "device.workstation": who.host,
        "src.ip": who.ip,
    }


def gen_ehr():
    ev = []
    users = [p for p in CLINICAL if p.role != "radiologist"] + [BY_KEY["clerk03"], BY_KEY["matron02"]]
    for who in users:
        # each clinician has a caseload: a few dozen patients of their own
        caseload = rng.sample(PATIENTS, rng.randint(12, 30))
        n = rng.randint(25, 55)
        for _ in range(n):
            if who.night:
                t = day_time(0, 7) if rng.random() < 0.5 else day_time(20, 24)
            else:
                t = day_time(7, 19)
            action = rng.choices(["view", "update", "print"], [75, 20, 5])[0]
            ev.append(ehr_event(t, who, pick(caseload), action))
    # patient searches at reception (no patient selected yet)
    recep = BY_KEY["recep25"]
    for _ in range(40):
        e = ehr_event(day_time(8, 17), recep, None, "search", module="Patient Search", care=False)
        e["access.record_count"] = rng.randint(1, 12)
        ev.append(e)
    # an emergency override by the treating ED consultant, with a care relationship
    ev.append(ehr_event(hms(10, 18, 42), BY_KEY["cons06"], PATIENTS[211], "break_glass", module="Chart",
                        care=True, break_glass=True, reason="Direct care - emergency"))
    # the treating team viewing a VIP record normally
    ev.append(ehr_event(hms(10, 15, 25), BY_KEY["cons06"], PATIENTS[17], "view", module="Chart"))
    ev.append(ehr_event(hms(10, 36, 24), BY_KEY["nurse01"], PATIENTS[17], "view", module="Observations"))
    return ev


# ------------------------------------------------------- CIS2 smartcard --

def gen_cis2():
    ev = []
    site_names = dict(SITES)
    for who in CLINICAL + [BY_KEY["clerk03"], BY_KEY["matron02"], BY_KEY["recep25"], BY_KEY["coder13"]]:
        if who.night:
            starts = [day_time(0, 1), day_time(19, 20)]
            windows = [(0, 7), (19.5, 24)]
        else:
            starts = [day_time(7, 8.5)]
            windows = [(8.5, 18.5)]
        times = list(starts)
        for lo, hi in windows:
            times += [day_time(lo, hi) for _ in range(rng.randint(5, 9))]
        # a second workstation on the same site (ward office, clinic room)
        alt_host = who.host[:-1] + str((int(who.host[-1]) + 1) % 10)
        alt_ip = who.ip.rsplit(".", 1)[0] + "." + str(int(who.ip.rsplit(".", 1)[1]) + 1)
        for t in times:
            host, ip = (who.host, who.ip) if rng.random() < 0.75 else (alt_host, alt_ip)
            e = {
                "TimeGenerated": ts(t),
                "cis2.uid": who.cis2_uid,
                "cis2.selected_roleid": who.cis2_role,
                "cis2.role_code": who.role_code,
                "cis2.activity_codes": ["B0360", "B0264", "B0082"],
                "cis2.aal": "AAL3",
                "cis2.amr": ["smartcard"],
                "cis2.client_id": pick(["epr-prod.apps.national", "epr-prod.apps.national", "scr-prod.apps.national",
                                        "ers-prod.apps.national"]),
                "auth.result": "success",
                "src.ip": ip,
                "src.hostname": host,
                "site.ods_code": who.site,
                "site.name": site_names[who.site],
            }
            if rng.random() < 0.04:
                e["auth.result"] = "failure"
                e["auth.failure_reason"] = "Smartcard PIN incorrect"
            ev.append(e)
    # consultants working from a VDI session host in the data centre
    for key in ("cons06", "reg04", "rad02"):
        who = BY_KEY[key]
        for _ in range(3):
            n = rng.randint(1, 60)
            ev.append({
                "TimeGenerated": ts(day_time(9, 17)),
                "cis2.uid": who.cis2_uid, "cis2.selected_roleid": who.cis2_role, "cis2.role_code": who.role_code,
                "cis2.activity_codes": ["B0360", "B0264", "B0082"], "cis2.aal": "AAL3", "cis2.amr": ["smartcard"],
                "cis2.client_id": "epr-prod.apps.national", "auth.result": "success",
                "src.ip": "10.90.10.%d" % n, "src.hostname": "vdi-pool-01-%04d" % n,
                "site.ods_code": "RZZDC", "site.name": "Example Trust Data Centre",
            })
    return ev


# ----------------------------------------------------------- Entra ID --

APPS = {
    "Office 365 Exchange Online": "00000002-0000-0ff1-ce00-000000000000",
    "Microsoft Teams": "1fec8e78-bce4-4aaf-ab1b-5451cc387264",
    "OfficeHome": "4765445b-32c6-49b0-83e6-1d93765276ca",
    "Office 365 SharePoint Online": "00000003-0000-0ff1-ce00-000000000000",
    "OneDrive SyncEngine": "ab9b8c07-8f02-4f72-87fa-80105867a763",
    "Microsoft Edge": "ecd6b820-32c2-49b6-98a6-444530e5a77a",
    "Microsoft Office": "d3590ed6-52b3-4102-aeff-aad2292ab01c",
}
GATEWAY_APP = ("Citrix Gateway - Clinical Apps", "5f1b2c3d-7a8e-4b9f-a0c1-d2e3f4a5b6c7")
TRUST_EGRESS = ["203.0.113.10", "203.0.113.11", "203.0.113.12"]
UA_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/124.0 Safari/537.36")
UA_EDGE = UA_CHROME + " Edg/124.0.2478.80"
UA_OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)"
UA_TEAMS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Teams/24060.2623.2790.8046"


def signin(t, who, app, ip, details, requirement="multiFactorAuthentication", result="0",
           failure="Other.", client="Browser", ua=UA_CHROME, managed=True, app_id=None):
    return {
        "TimeGenerated": ts(t),
        "UserPrincipalName": who.upn,
        "UserDisplayName": who.name,
        "UserId": who.entra_id,
        "UserType": "Member",
        "AppDisplayName": app,
        "AppId": app_id or APPS.get(app, guid("app", app)),
        "ResourceDisplayName": app,
        "IPAddress": ip,
        "Location": "GB",
        "ClientAppUsed": client,
        "IsInteractive": True,
        "AuthenticationRequirement": requirement,
        "ConditionalAccessStatus": "success" if result == "0" else "notApplied",
        "ResultType": result,
        "ResultDescription": "" if result == "0" else failure,
        "Status": {"errorCode": int(result), "failureReason": failure, "additionalDetails": details},
        "RiskLevelDuringSignIn": "none",
        "RiskState": "none",
        "CorrelationId": guid("corr", who.key, t, app),
        "UserAgent": ua,
        "DeviceDetail": {"operatingSystem": "Windows 10", "browser": "Chrome 124.0.0" if "Chrome" in ua else "Edge 124.0.0",
                         "isCompliant": managed, "isManaged": managed},
    }


CLAIM = "MFA requirement satisfied by claim in the token"
FRESH = "MFA successfully completed"


def gen_signins():
    ev = []
    denials = {"fin11": hms(11, 13, 32), "clerk03": hms(14, 40, 5)}
    for who in PEOPLE:
        ip = pick(TRUST_EGRESS)
        if who.night:
            first = day_time(19, 20)
        else:
            first = day_time(7, 8.5)
        # first sign-in of the shift: a fresh MFA approval (number match)
        ev.append(signin(first, who, "OfficeHome", ip, FRESH))
        n = rng.randint(12, 22)
        apps = list(APPS)
        for _ in range(n):
            t = first + rng.uniform(300, 10.5 * 3600)
            if t >= 86399:
                t = rng.uniform(0, 6.5 * 3600)
            app = pick(apps)
            ua = {"Office 365 Exchange Online": UA_OUTLOOK, "Microsoft Teams": UA_TEAMS,
                  "Microsoft Edge": UA_EDGE}.get(app, UA_CHROME)
            client = "Mobile Apps and Desktop clients" if app in ("Office 365 Exchange Online", "Microsoft Teams",
                                                                  "OneDrive SyncEngine", "Microsoft Office") else "Browser"
            e = signin(t, who, app, ip, CLAIM, client=client, ua=ua)
            ev.append(e)
        # an occasional mistyped password before the correct one
        if rng.random() < 0.25:
            t = first + rng.uniform(3600, 5 * 3600)
            ev.append(signin(t, who, "OfficeHome", ip, "", requirement="singleFactorAuthentication",
                             result="50126", failure="Error validating credentials due to invalid username or password."))
            ev.append(signin(t + 25, who, "OfficeHome", ip, CLAIM))
        # a single declined push (a mistyped number match) hours after the shift's fresh approval;
        # later sign-ins ride on the token's MFA claim
        if who.key in denials:
            t = denials[who.key]
            ev.append(signin(t, who, "Office 365 SharePoint Online", ip,
                             "MFA denied; user declined the authentication", result="500121",
                             failure="Authentication failed during strong authentication request."))
    # clinicians reaching clinical apps from home through the gateway, with MFA
    for key in ("cons06", "rad02", "rad05", "reg04", "matron02", "itsup02"):
        who = BY_KEY[key]
        t = day_time(19.5, 22.5)
        ev.append(signin(t, who, GATEWAY_APP[0], who.home_ip, FRESH, managed=False, app_id=GATEWAY_APP[1]))
        for k in range(rng.randint(1, 3)):
            ev.append(signin(t + 600 * (k + 1), who, GATEWAY_APP[0], who.home_ip, CLAIM, managed=False,
                             app_id=GATEWAY_APP[1]))
    return ev


# ----------------------------------------------------------------- DICOM --

REGISTERED_AE = load_list("registered_ae_titles.txt")
MODALITIES = [  # AE title, address, SOP class, instances (lo, hi), bytes per instance
    ("CT01_SIEMENS", "10.50.3.11", "1.2.840.10008.5.1.4.1.1.2", (150, 600), 524288),
    ("CT02_SIEMENS", "10.50.3.12", "1.2.840.10008.5.1.4.1.1.2", (150, 600), 524288),
    ("MR01_GE", "10.50.3.21", "1.2.840.10008.5.1.4.1.1.4", (200, 900), 262144),
    ("US02_PHILIPS", "10.50.3.32", "1.2.840.10008.5.1.4.1.1.6.1", (10, 60), 786432),
    ("DX03_CARESTREAM", "10.50.3.43", "1.2.840.10008.5.1.4.1.1.1.1", (1, 4), 9437184),
    ("MG01_HOLOGIC", "10.50.3.51", "1.2.840.10008.5.1.4.1.1.1.2", (4, 8), 26214400),
]
WORKSTATIONS = [  # AE title, address, user key
    ("RADWS07", "10.30.2.51", "rad02"),
    ("RADWS08", "10.30.2.58", "rad05"),
    ("RADWS11", "10.30.2.61", None),
    ("ORTHOWS02", "10.30.4.12", None),
    ("AW01_GE", "10.30.2.70", None),
]
PACS_IP, VNA_IP = "10.50.0.20", "10.50.0.30"
AI_IP, TELERAD_IP = "10.50.0.40", "10.50.0.45"
STUDIES = []


def study_uid(n):
    return "1.2.826.0.1.3680043.2.1125.2.%d" % n


def dicom_assoc(t, src, dst, port, calling, called, command, sop, move_dest, study, patient, inst, nbytes, status="0000"):
    return {
        "TimeGenerated": ts(t), "net.src_ip": src, "net.dst_ip": dst, "net.dst_port": port,
        "dicom.calling_ae": calling, "dicom.called_ae": called, "dicom.command": command,
        "dicom.sop_class_uid": sop, "dicom.move_destination": move_dest, "dicom.status": status,
        "dicom.study_uid": study, "dicom.patient_id": patient, "dicom.instances": inst,
        "dicom.bytes": nbytes, "sensor": "pacs01-audit",
    }


def gen_dicom():
    assoc, audit = [], []
    for ae in [m[0] for m in MODALITIES] + [w[0] for w in WORKSTATIONS] + ["PACS01", "VNA01", "AITRIAGE01", "TELERAD_GW1"]:
        assert ae in REGISTERED_AE, ae
    n = 0
    for ae, ip, sop, (lo, hi), per in MODALITIES:
        count = {"DX03_CARESTREAM": 45, "US02_PHILIPS": 25, "MG01_HOLOGIC": 14}.get(ae, 16)
        for _ in range(count):
            n += 1
            # mostly the working day and evening lists, some overnight emergency scans
            t = day_time(7.5, 20) if rng.random() < 0.85 else day_time(0.5, 6)
            pt = pick(PATIENTS)
            inst = rng.randint(lo, hi)
            uid = study_uid(n)
            STUDIES.append((t, uid, pt, inst, per, ae))
            # worklist query, then the store, then PACS archives to the VNA
            assoc.append(dicom_assoc(t - 600, ip, "10.50.0.25", 104, ae, "RIS_MWL", "C-FIND-RQ",
                                     "1.2.840.10008.5.1.4.31", "", "", pt.nhs, 0, 0))
            assoc.append(dicom_assoc(t, ip, PACS_IP, 11112, ae, "PACS01", "C-STORE-RQ", sop, "", uid,
                                     pt.nhs, inst, inst * per))
            assoc.append(dicom_assoc(t + 900, PACS_IP, VNA_IP, 11112, "PACS01", "VNA01", "C-STORE-RQ", sop, "",
                                     uid, pt.nhs, inst, inst * per))
            if ae.startswith(("CT", "DX")) and rng.random() < 0.5:
                # AI triage pulls CT heads and chest films to itself
                assoc.append(dicom_assoc(t + 120, AI_IP, PACS_IP, 11112, "AITRIAGE01", "PACS01", "C-MOVE-RQ",
                                         "1.2.840.10008.5.1.4.1.2.2.2", "AITRIAGE01", uid, pt.nhs, inst, inst * per))
            if rng.random() < 0.10:
                assoc.append(dicom_assoc(t + 1800, TELERAD_IP, PACS_IP, 11112, "TELERAD_GW1", "PACS01",
                                         "C-MOVE-RQ", "1.2.840.10008.5.1.4.1.2.2.2", "TELERAD_GW1", uid, pt.nhs,
                                         inst, inst * per))
            # modality reachability check
            if rng.random() < 0.2:
                assoc.append(dicom_assoc(t - 30, ip, PACS_IP, 11112, ae, "PACS01", "C-ECHO-RQ",
                                         "1.2.840.10008.1.1", "", "", "", 0, 0))
    # reporting: radiologists query and retrieve to their own workstation
    for (t0, uid, pt, inst, per, mod) in list(STUDIES):
        ws, ip, ukey = pick(WORKSTATIONS[:3] + WORKSTATIONS[4:]) if mod != "DX03_CARESTREAM" or rng.random() < 0.6 \
            else WORKSTATIONS[3]
        t = t0 + rng.uniform(1200, 3 * 3600)
        assoc.append(dicom_assoc(t - 20, ip, PACS_IP, 11112, ws, "PACS01", "C-FIND-RQ",
                                 "1.2.840.10008.5.1.4.1.2.2.1", "", uid, pt.nhs, 0, 0))
        if ws == "ORTHOWS02":
            assoc.append(dicom_assoc(t, ip, PACS_IP, 11112, ws, "PACS01", "C-GET-RQ",
                                     "1.2.840.10008.5.1.4.1.2.2.3", "", uid, pt.nhs, inst, inst * per))
        else:
            assoc.append(dicom_assoc(t, ip, PACS_IP, 11112, ws, "PACS01", "C-MOVE-RQ",
                                     "1.2.840.10008.5.1.4.1.2.2.2", ws, uid, pt.nhs, inst, inst * per))
        who = BY_KEY[ukey] if ukey else None
        audit.append(dicom_audit(t + 40, "110104", "DICOM Instances Transferred", "R", who, ip, ws, uid, pt, inst))
        audit.append(dicom_audit(t + 90, "110103", "DICOM Instances Accessed", "R", who, ip, None, uid, pt, inst))
    # radiologist and PACS admin logins
    for who in (BY_KEY["rad02"], BY_KEY["rad05"]):
        for t in (day_time(7.5, 8.5), day_time(12.5, 13.5), day_time(16, 17)):
            audit.append(dicom_audit(t, "110114", "User Authentication", "E", who, who.ip, None, None, None, 0))
    # film library burns single studies to CD for patients and other trusts, spread through the day
    for k in range(8):
        t0, uid, pt, inst, per, mod = pick(STUDIES)
        t = hms(9) + k * 3600 + rng.uniform(0, 1800)
        audit.append(dicom_audit(t, "110106", "Export", "R", None, "10.30.0.19", "CDWRITER02", uid, pt, inst,
                                 requestor=("filmlibrary.example19", "Film Library Example19"), media="110032"))
    # an MDT coordinator exports two studies for the regional MDT
    for k in range(2):
        t0, uid, pt, inst, per, mod = pick(STUDIES)
        audit.append(dicom_audit(hms(15, 5 + k * 4), "110106", "Export", "R", None, "10.30.0.5", "CDWRITER01",
                                 uid, pt, inst, requestor=("pacs.admin", "PACS Administrator"), media="110032"))
    return assoc, audit


def dicom_audit(t, event_id, name, action, who, net_id, dest, uid, pt, inst, requestor=None, media=""):
    if requestor is None:
        requestor = (who.sam, who.name) if who else ("svc-reporting", "Reporting Worklist Service")
    e = {
        "TimeGenerated": ts(t),
        "dicom_audit.event_id": event_id,
        "dicom_audit.event_name": name,
        "dicom_audit.action": action,
        "dicom_audit.outcome": 0,
        "dicom_audit.event_types": [],
        "requestor.user_id": requestor[0],
        "requestor.user_name": requestor[1],
        "requestor.net_id": net_id,
        "source.user_id": "PACS01",
        "source.alt_user_id": "AETITLE=PACS01",
        "source.net_id": PACS_IP,
        "destination.user_id": dest or "",
        "destination.media_type": media,
        "audit_source.id": "PACS01",
        "audit_source.site": "RZZ01",
        "object.study_uids": uid or "",
        "object.patient_ids": pt.nhs if pt else "",
        "object.num_instances": inst,
        "object.num_studies": 1 if uid else 0,
    }
    if dest and not dest.startswith("CDWRITER"):
        e["destination.alt_user_id"] = "AETITLE=" + dest
        e["destination.net_id"] = net_id
    return e


# ------------------------------------------------------------------ main --

# ------------------------------------------------------ HL7 and Mirth --

HL7_SENDERS = load_list("hl7_registered_senders.txt")
ENGINE_IP = "10.60.2.5"          # production Mirth node (lists/hl7_production_engines.txt)
ENGINE_IP_2 = "10.60.2.6"
PAS_HOST, EPR_HOST = "10.60.1.10", "10.60.3.10"
LIMS_HOSTS = ["10.61.3.40", "10.61.3.41"]   # inside lists/hl7_result_source_hosts.txt
POCT_HOST, RIS_HOST = "10.61.5.10", "10.62.1.20"
CARDIO_HOST, BLOOD_HOST = "10.62.2.30", "10.61.4.15"
LIMS_LISTENER, RIS_LISTENER = "10.61.3.44", "10.62.1.21"
_control = [700000]


def hl7(t, channel, direction, src, sport, dst, dport, sender, receiver, mtype, version="2.4",
        transport="mllp", patient=None):
    app, fac = sender.split("@")
    rapp, rfac = receiver.split("@")
    _control[0] += rng.randint(1, 9)
    code, trigger = mtype.split("^")
    raw = "MSH|^~\\&|%s|%s|%s|%s|%s||%s|MSG%d|P|%s" % (app, fac, rapp, rfac, ts(t), mtype, _control[0], version)
    return {
        "TimeGenerated": ts(t),
        "engine.product": "mirth",
        "engine.channel": channel,
        "engine.direction": direction,
        "engine.status": "sent",
        "net.src_ip": src,
        "net.src_port": sport,
        "net.dst_ip": dst,
        "net.dst_port": dport,
        "net.transport": transport,
        "msh.sending_application": app,
        "msh.sending_facility": fac,
        "msh.receiving_application": rapp,
        "msh.receiving_facility": rfac,
        "msh.datetime": ts(t)[:19].replace("-", "").replace("T", "").replace(":", ""),
        "msh.message_type": mtype,
        "msh.message_code": code,
        "msh.trigger_event": trigger,
        "msh.control_id": "MSG%d" % _control[0],
        "msh.processing_id": "P",
        "msh.version": version,
        "msh.sender": sender,
        "pid.nhs_number": (patient or pick(PATIENTS)).nhs,
        "ack.code": "AA",
        "raw_sha256": hexid("hl7", raw, n=64),
    }


def gen_hl7():
    ev = []
    port = lambda: rng.randint(40000, 60999)
    engine = lambda: ENGINE_IP if rng.random() < 0.8 else ENGINE_IP_2
    # ADT from the PAS, fanned out to the EPR
    for _ in range(170):
        t = work_time()
        pt = pick(PATIENTS)
        trig = rng.choices(["A01", "A02", "A03", "A04", "A08", "A31"], [15, 10, 12, 18, 40, 5])[0]
        eng = engine()
        ev.append(hl7(t, "PAS_ADT_IN", "inbound", PAS_HOST, port(), eng, 6661, "PAS@RZZ", "EPR@RZZ",
                      "ADT^" + trig, patient=pt))
        ev.append(hl7(t + rng.uniform(0.2, 2), "EPR_ADT_OUT", "outbound", eng, port(), EPR_HOST, 7661,
                      "PAS@RZZ", "EPR@RZZ", "ADT^" + trig, patient=pt))
    # orders from the EPR to pathology and radiology
    for _ in range(90):
        t = work_time()
        pt = pick(PATIENTS)
        eng = engine()
        lab = rng.random() < 0.7
        ev.append(hl7(t, "EPR_ORM_IN", "inbound", EPR_HOST, port(), eng, 6663, "EPR@RZZ",
                      "LIMS@PATH" if lab else "RIS@RZZ", "ORM^O01", patient=pt))
        ev.append(hl7(t + rng.uniform(0.2, 2), "LIMS_ORM_OUT" if lab else "RIS_ORM_OUT", "outbound", eng, port(),
                      LIMS_LISTENER if lab else RIS_LISTENER, 7663, "EPR@RZZ",
                      "LIMS@PATH" if lab else "RIS@RZZ", "ORM^O01", patient=pt))
    # results from the approved result sources, forwarded to the EPR
    for _ in range(110):
        t = work_time()
        pt = pick(PATIENTS)
        eng = engine()
        r = rng.random()
        if r < 0.65:
            chan, src, sport, dport, sender, tr, ver = "LIMS_ORU_IN", pick(LIMS_HOSTS), port(), 6662, "LIMS@PATH", "mllp", "2.4"
            mt = "ORU^R01"
        elif r < 0.85:
            chan, src, sport, dport, sender, tr, ver = "RIS_ORU_IN", RIS_HOST, port(), 6664, "RIS@RZZ", "mllp", "2.4"
            mt = "ORU^R01"
        else:
            chan, src, sport, dport, sender, tr, ver = "POCT_ORU_IN", POCT_HOST, 22, port(), "POCT@PATH", "sftp", "2.5"
            mt = "ORU^R30"
        ev.append(hl7(t, chan, "inbound", src, sport, eng, dport, sender, "EPR@RZZ", mt, version=ver,
                      transport=tr, patient=pt))
        ev.append(hl7(t + rng.uniform(0.2, 2), "EPR_ORU_OUT", "outbound", eng, port(), EPR_HOST, 7662,
                      sender, "EPR@RZZ", mt, version=ver, patient=pt))
    # ECG reports and blood-product traceability
    for _ in range(20):
        ev.append(hl7(work_time(), "CARDIO_MDM_IN", "inbound", CARDIO_HOST, port(), engine(), 6665,
                      "CARDIO@RZZ", "EPR@RZZ", "MDM^T02"))
    for _ in range(15):
        ev.append(hl7(work_time(), "BLOODTRACK_BTS_IN", "inbound", BLOOD_HOST, port(), engine(), 6666,
                      "BLOODTRACK@PATH", "EPR@RZZ", "BTS^O31", version="2.5"))
    for e in ev:
        if e["engine.direction"] == "inbound":
            assert e["msh.sender"] in HL7_SENDERS, e["msh.sender"]
    return ev


MIRTH_SERVER = guid("mirth-server")


def gen_mirth():
    ev = []
    seq = [51000]

    def m(t, name, outcome, user_id, ip, username, level="INFORMATION", channel=None):
        seq[0] += 1
        e = {"mirth.id": seq[0], "TimeGenerated": ts(t), "mirth.level": level, "mirth.name": name,
             "mirth.outcome": outcome, "mirth.user_id": user_id, "mirth.ip_address": ip,
             "mirth.server_id": MIRTH_SERVER, "mirth.attributes": {"username": username}}
        if channel:
            e["mirth.channel_id"] = guid("channel", channel)
            e["mirth.channel_name"] = channel
        return e

    channels = ["PAS_ADT_IN", "EPR_ADT_OUT", "EPR_ORM_IN", "LIMS_ORM_OUT", "RIS_ORM_OUT", "LIMS_ORU_IN",
                "RIS_ORU_IN", "POCT_ORU_IN", "EPR_ORU_OUT", "CARDIO_MDM_IN", "BLOODTRACK_BTS_IN"]
    engineers = [("integration.eng1", 7, "10.60.9.14"), ("integration.eng2", 8, "10.60.9.15"),
                 ("integration.eng3", 9, "10.60.9.31")]
    for user, uid, ip in engineers:
        for session in range(rng.randint(2, 3)):
            t = day_time(8 + session * 3, 10 + session * 3)
            if rng.random() < 0.3:
                ev.append(m(t - 20, "Login", "FAILURE", 0, ip, user))     # a typo
            ev.append(m(t, "Login", "SUCCESS", uid, ip, user))
            for k in range(rng.randint(4, 9)):
                t2 = t + 60 * (k + 1) + rng.uniform(0, 50)
                name = pick(["Get channels", "Get channel statistics", "Get messages", "Get server settings",
                             "Get alerts", "Get messages"])
                ev.append(m(t2, name, "SUCCESS", uid, ip, user,
                            channel=pick(channels) if name == "Get messages" else None))
            if rng.random() < 0.5:
                ch = pick(channels)
                ev.append(m(t + 900, "Update channel", "SUCCESS", uid, ip, user, channel=ch))
                ev.append(m(t + 960, "Deploy channels", "SUCCESS", uid, ip, user, channel=ch))
            ev.append(m(t + 1500, "Logout", "SUCCESS", uid, ip, user))
    # the monitoring account polls channel statistics every fifteen minutes
    for k in range(96):
        t = k * 900 + 30
        ev.append(m(t, "Login", "SUCCESS", 12, "10.60.9.40", "svc-monitor"))
        ev.append(m(t + 2, "Get channel statistics", "SUCCESS", 12, "10.60.9.40", "svc-monitor"))
        ev.append(m(t + 3, "Logout", "SUCCESS", 12, "10.60.9.40", "svc-monitor"))
    # the nightly configuration backup
    ev.append(m(hms(2, 0, 5), "Login", "SUCCESS", 13, "10.60.9.41", "svc-config-backup"))
    ev.append(m(hms(2, 0, 9), "Backup server configuration", "SUCCESS", 13, "10.60.9.41", "svc-config-backup"))
    ev.append(m(hms(2, 0, 40), "Logout", "SUCCESS", 13, "10.60.9.41", "svc-config-backup"))
    return ev


# ------------------------------------------------------------------ FHIR --

FHIR_BULK = load_list("fhir_bulk_clients.txt")
FHIR_SERVICE = load_list("fhir_service_clients.txt")


def fhir(t, who, name, client, addr, subtype, action, patient="", query="", operation="", purpose=""):
    return {
        "TimeGenerated": ts(t), "fhir.version": "R4", "fhir.type": "rest", "fhir.subtype": subtype,
        "fhir.operation": operation, "fhir.action": action, "fhir.outcome": "0",
        "fhir.requestor.who": who, "fhir.requestor.name": name, "fhir.requestor.client_id": client,
        "fhir.requestor.purpose_of_use": purpose, "fhir.network.address": addr,
        "fhir.source.observer": "fhir.trust.example", "fhir.patient": patient,
        "fhir.entity.what": [patient] if patient else [], "fhir.query": query,
    }


def fhir_pid(pt):
    return "Patient/pt-" + pt.mrn[3:]


def gen_fhir():
    ev = []
    # clinicians' EPR web views of their own patients
    for who in CLINICAL[:10]:
        caseload = rng.sample(PATIENTS, 15)
        for _ in range(rng.randint(10, 20)):
            pt = pick(caseload)
            res = pick(["Patient/%s", "Observation?patient=%s", "MedicationRequest?patient=%s",
                        "Condition?patient=%s", "AllergyIntolerance?patient=%s"])
            pid = fhir_pid(pt)
            q = "/" + (res % pid[8:] if res.startswith("Patient/") else res % pid)
            ev.append(fhir(day_time(8, 18), "Practitioner/" + who.uid, who.name, "epr-web", who.ip,
                           "read" if res.startswith("Patient/") else "search-type", "R", pid, q, purpose="TREAT"))
    # service clients: the NEWS2 engine reads and writes observations, results notifier, MPI sync
    for k in range(150):
        pt = pick(PATIENTS[:120])
        t = k * 560 + rng.uniform(0, 300)
        ev.append(fhir(t, "Device/news2-score-engine", "news2-score-engine", "news2-score-engine", "10.40.2.9",
                       "search-type", "R", fhir_pid(pt), "/Observation?patient=%s&category=vital-signs" % fhir_pid(pt)))
        if rng.random() < 0.5:
            ev.append(fhir(t + 2, "Device/news2-score-engine", "news2-score-engine", "news2-score-engine",
                           "10.40.2.9", "create", "C", fhir_pid(pt), "/Observation"))
    for _ in range(70):
        pt = pick(PATIENTS)
        ev.append(fhir(work_time(), "Device/results-notifier", "results-notifier", "results-notifier", "10.40.2.10",
                       "read", "R", fhir_pid(pt), "/DiagnosticReport?patient=%s&_sort=-date&_count=1" % fhir_pid(pt)))
    for _ in range(50):
        pt = pick(PATIENTS)
        ev.append(fhir(day_time(0, 24), "Device/mpi-sync", "mpi-sync", "mpi-sync", "10.40.2.6", "read", "R",
                       fhir_pid(pt), "/" + fhir_pid(pt)))
    # practitioner directory searches without a patient
    for _ in range(25):
        ev.append(fhir(day_time(8, 18), "Device/epr-web", "epr-web", "epr-web", "10.40.3.5", "search-type", "R",
                       "", "/PractitionerRole?organization=Organization/RZZ&_count=50"))
    # approved bulk exports from their own hosts overnight, status polling and file downloads
    bulk = [("population-health-etl", "10.40.1.30", "/Group/diabetes-registry/$export?_since=2025-03-16T00:00:00Z"),
            ("sde-research-extract", "10.40.1.31", "/$export?_type=Patient,Condition,Observation&_outputFormat=application/fhir+ndjson"),
            ("ics-shcr-feed", "10.40.2.5", "/Patient/$export?_since=2025-03-16T01:45:00Z&_type=Patient,Encounter")]
    for i, (client, host, q) in enumerate(bulk):
        assert client in FHIR_BULK
        t = hms(1, 0) + i * 1800
        ev.append(fhir(t, "Device/" + client, client, client, host, "operation", "E", "", q, operation="$export"))
        job = guid("job", client)
        for k in range(1, 5):
            ev.append(fhir(t + k * 300, "Device/" + client, client, client, host, "operation", "R", "",
                           "/$export-poll-status?_jobId=" + job, operation="$export-poll-status"))
        for k in range(1, 4):
            ev.append(fhir(t + 1500 + k * 20, "Device/" + client, client, client, host, "read", "R", "",
                           "/Binary/export-%s-Patient-%d.ndjson" % (job[:8], k)))
    for c in ("news2-score-engine", "results-notifier", "mpi-sync"):
        assert c in FHIR_SERVICE
    return ev


# ---------------------------------------------------------------- e-mail --

TENANT = {"OrganizationId": "3a1f0c2e-7b4d-4e5f-9a60-1b2c3d4e5f60", "OrganizationName": "nhsmail.example",
          "OfficeTenantId": "3a1f0c2e-7b4d-4e5f-9a60-1b2c3d4e5f60", "TenantId": "b7e4d2c1-9a8f-4e6d-8c5b-4a3f2e1d0c9b"}
ADMINS = [("localadmin.example31@nhs.net", "1003200012ACFD05"), ("localadmin.example32@nhs.net", "1003200012ACFD06")]
STAFF_POOL = ["staff.example%03d@nhs.net" % i for i in range(100, 400)]
EXTERNAL = ["admissions@carehome.example", "reception@gp-surgery.example", "accounts@supplier.example",
            "referrals@hospice.example", "orders@wholesaler.example", "enquiries@university.example",
            "noreply@training-provider.example", "team@council.example"]


def office(t, op, user, user_key, user_type, object_id, params, ip):
    return {
        "TimeGenerated": ts(t), "RecordType": "ExchangeAdmin", "Operation": op,
        "OrganizationId": TENANT["OrganizationId"], "OrganizationName": TENANT["OrganizationName"],
        "UserType": user_type, "UserKey": user_key, "OfficeWorkload": "Exchange", "ResultStatus": "True",
        "OfficeObjectId": object_id, "UserId": user, "ClientIP": "%s:%d" % (ip, rng.randint(49152, 65535)),
        "ExternalAccess": "false",
        "OriginatingServer": "LO2P265MB%04d (15.20.7409.000)" % rng.randint(1000, 9999),
        "Parameters": json.dumps(params, separators=(",", ":")),
        "SourceRecordId": guid("src", op, user, t), "OfficeTenantId": TENANT["OfficeTenantId"],
        "TenantId": TENANT["TenantId"], "SourceSystem": "OfficeActivityManager", "Type": "OfficeActivity",
    }


def kv(*pairs):
    return [{"Name": pairs[i], "Value": pairs[i + 1]} for i in range(0, len(pairs), 2)]


def gen_office_activity():
    ev = []
    rules = [  # (rule name, extra parameters): ordinary filing rules
        ("Rota", ("SubjectContainsWords", "rota;e-roster", "MoveToFolder", "Rota")),
        ("Datix", ("SubjectOrBodyContainsWords", "Datix incident", "MoveToFolder", "Datix")),
        ("Training", ("FromAddressContainsWords", "learning.example@nhs.net", "MoveToFolder", "Training")),
        ("Theatre lists", ("SubjectContainsWords", "theatre list", "MoveToFolder", "Theatre lists")),
        ("Staff bulletin", ("SubjectContainsWords", "Staff bulletin", "MarkAsRead", "True")),
        ("Audit", ("SubjectContainsWords", "clinical audit", "MoveToFolder", "Audit")),
        ("Teaching", ("SubjectContainsWords", "grand round;teaching", "MoveToFolder", "Teaching")),
        ("Newsletters", ("FromAddressContainsWords", "comms.example@nhs.net", "MoveToFolder", "Newsletters")),
    ]
    users = [p for p in PEOPLE]
    for i in range(45):
        who = pick(users)
        name, extra = pick(rules)
        t = day_time(8, 18)
        mailbox = who.upn.split("@")[0]
        ev.append(office(t, "New-InboxRule", who.upn, "10032000%08X" % (int(who.entra_id[:8], 16) & 0xFFFFFFFF),
                         "Regular", "%s\\%s" % (mailbox, name), kv("Mailbox", mailbox, "Name", name, *extra),
                         pick(TRUST_EGRESS)))
    # leave cover: forwarding to a colleague inside NHSmail, switched off again
    cover = [("matron02", "nurse01"), ("cons06", "reg04"), ("fin11", "pa10"), ("rad02", "rad05")]
    for a, b in cover:
        who, dep = BY_KEY[a], BY_KEY[b]
        mailbox = who.upn.split("@")[0]
        key = "10032000%08X" % int(who.entra_id[:8], 16)
        t = day_time(9, 16)
        ev.append(office(t, "New-InboxRule", who.upn, key, "Regular", "%s\\Leave cover" % mailbox,
                         kv("Mailbox", mailbox, "Name", "Leave cover", "ForwardTo", dep.upn), pick(TRUST_EGRESS)))
        ev.append(office(t + 600, "Set-MailboxAutoReplyConfiguration", who.upn, key, "Regular", mailbox,
                         kv("Identity", mailbox, "AutoReplyState", "Scheduled",
                            "InternalMessage", "On leave until 24 March; please contact %s." % dep.name),
                         pick(TRUST_EGRESS)))
    ev.append(office(hms(16, 40), "Set-InboxRule", BY_KEY["pa10"].upn, "10032000AB12CD34", "Regular",
                     "pa.example10\\Leave cover", kv("Identity", "pa.example10\\Leave cover", "Enabled", "False"),
                     pick(TRUST_EGRESS)))
    # local administrators: shared mailbox permissions and send-on-behalf, no forwarding
    shared = ["ward7.example", "outpatients.example33", "radiology.bookings.example", "pharmacy.example29"]
    for i in range(24):
        adm, key = pick(ADMINS)
        mb = pick(shared)
        who = pick(PEOPLE)
        t = day_time(8.5, 17)
        op = pick(["Add-MailboxPermission", "Set-Mailbox", "Add-RecipientPermission", "Set-CalendarProcessing"])
        if op == "Add-MailboxPermission":
            params = kv("Identity", mb + "@nhs.net", "User", who.upn, "AccessRights", "FullAccess",
                        "InheritanceType", "All")
        elif op == "Set-Mailbox":
            params = kv("Identity", mb + "@nhs.net", "GrantSendOnBehalfTo", who.upn)
        elif op == "Add-RecipientPermission":
            params = kv("Identity", mb + "@nhs.net", "Trustee", who.upn, "AccessRights", "SendAs")
        else:
            params = kv("Identity", mb + "@nhs.net", "AutomateProcessing", "AutoAccept", "BookingWindowInDays", "180")
        ev.append(office(t, op, adm, key, "Admin", mb, params, "10.20.30.%d" % rng.randint(5, 9)))
    return ev


def email(t, sender, sender_name, sender_oid, recipient, subject, direction, urls=0, attachments=0,
          sender_ip="192.0.2.10", message_id=None, threat=""):
    domain = sender.split("@")[1]
    return {
        "Timestamp": ts(t),
        "NetworkMessageId": message_id or guid("msg", sender, t, subject),
        "InternetMessageId": "<%s@%s>" % (hexid("imid", sender, t, n=16), domain),
        "SenderMailFromAddress": sender, "SenderFromAddress": sender, "SenderDisplayName": sender_name,
        "SenderObjectId": sender_oid, "SenderMailFromDomain": domain, "SenderFromDomain": domain,
        "SenderIPv4": sender_ip, "RecipientEmailAddress": recipient,
        "RecipientObjectId": guid("rcpt", recipient) if recipient.endswith("@nhs.net") else "",
        "Subject": subject,
        "EmailClusterId": int(hexid("cluster", subject, n=9), 16) % 10**9,
        "EmailDirection": direction,
        "DeliveryAction": "Delivered", "DeliveryLocation": "Inbox/folder", "ThreatTypes": threat,
        "DetectionMethods": "",
        "AuthenticationDetails": "{\"SPF\":\"pass\",\"DKIM\":\"pass\",\"DMARC\":\"pass\",\"CompAuth\":\"pass\"}",
        "AttachmentCount": attachments, "UrlCount": urls, "EmailLanguage": "en",
        "ReportId": guid("report", sender, recipient, t),
        "LatestDeliveryLocation": "Inbox/folder", "LatestDeliveryAction": "",
    }


SUBJECTS_INTERNAL = ["Handover notes", "Rota for next week", "Bed meeting 14:00", "Discharge planning",
                     "Referral", "MDT list", "Audit meeting minutes", "Training dates", "Clinic changes",
                     "Theatre list update", "Stock order", "Policy review", "Re: Patient transport",
                     "Shift swap", "Teaching slides", "Budget update"]


def gen_email_events():
    ev = []
    colleagues = [p.upn for p in PEOPLE]
    for who in PEOPLE:
        for _ in range(rng.randint(6, 14)):
            t = day_time(8, 18.5)
            subject = pick(SUBJECTS_INTERNAL)
            rcpts = rng.sample([c for c in colleagues if c != who.upn] + STAFF_POOL[:60], rng.randint(1, 6))
            urls, att = rng.choice([(0, 0), (1, 0), (0, 1), (2, 1), (0, 0)])
            mid = guid("msg", who.key, t)
            for r in rcpts:
                ev.append(email(t + rng.uniform(0, 3), who.upn, who.name, who.entra_id, r, subject, "Intra-org",
                                urls, att, message_id=mid))
        # a couple of outbound mails to partners (care homes, GP surgeries, suppliers)
        for _ in range(rng.randint(0, 2)):
            t = day_time(9, 17)
            ev.append(email(t, who.upn, who.name, who.entra_id, pick(EXTERNAL),
                            pick(["Discharge summary", "Appointment confirmation", "Order query", "Meeting request"]),
                            "Outbound", 0, rng.randint(0, 1)))
    # inbound partner and supplier mail
    for _ in range(110):
        t = day_time(7, 20)
        sender = pick(EXTERNAL)
        ev.append(email(t, sender, sender.split("@")[1].split(".")[0].title(), "", pick(colleagues + STAFF_POOL),
                        pick(["Referral", "Invoice attached", "Delivery note", "Course booking", "Re: Discharge summary",
                              "Newsletter"]), "Inbound", rng.randint(0, 3), rng.randint(0, 1),
                        sender_ip="203.0.113.%d" % rng.randint(20, 60)))
    # the approved staff bulletin to every ward inbox at 09:00
    bulletin_sender = "staff.bulletin.example@nhs.net"
    mid = guid("bulletin")
    for i, r in enumerate(STAFF_POOL[:150] + colleagues):
        ev.append(email(hms(9, 0, 0) + i * 0.2, bulletin_sender, "Staff Bulletin", guid("entra", "bulletin"), r,
                        "Staff bulletin - 17 March", "Intra-org", 6, 0, message_id=mid))
    return ev


def gen_dlp():
    ev = []

    def dlp(t, workload, rule, count, action, who, fname, target, path=None, device=None, external=None,
            subject=None, sit="U.K. national health service number", policy="Patient identifiers"):
        e = {"TimeGenerated": ts(t), "dlp.workload": workload, "dlp.policy": policy, "dlp.rule": rule,
             "dlp.sit_name": sit, "dlp.sit_count": count, "dlp.confidence": 85, "dlp.action": action,
             "user.upn": who.upn}
        if workload == "Exchange":
            e["email.external_recipients"] = external or []
            e["email.external_count"] = len(external or [])
            e["email.subject"] = subject
            e["file.name"] = fname
            e["file.target"] = "email"
        else:
            e["file.name"] = fname
            e["file.path"] = path
            e["file.target"] = target
            e["device.name"] = device or who.host
        return e

    # clinic lists and handovers shared inside NHSmail and on network shares
    for _ in range(30):
        who = pick(CLINICAL + [BY_KEY["clerk03"], BY_KEY["recep25"]])
        t = day_time(8, 18)
        if rng.random() < 0.5:
            ev.append(dlp(t, "Exchange", "NHS numbers internal", rng.randint(2, 60), "audit", who,
                          pick(["clinic_list.xlsx", "handover.docx", "theatre_list.xlsx", "ward_list.xlsx"]), "email",
                          subject=pick(["clinic list", "handover", "theatre list"])))
        else:
            fname = pick(["clinic_list.xlsx", "handover.docx", "discharge_tracker.xlsx"])
            ev.append(dlp(t, "Endpoint", "NHS numbers network share", rng.randint(5, 80), "audit", who, fname,
                          "network_share", path="\\\\fs01.trust.example\\Wards\\%s\\%s" % (who.dept.replace(" ", ""), fname)))
    # single-patient letters to care homes and GP surgeries
    for k in range(12):
        who = pick([BY_KEY["nurse01"], BY_KEY["matron02"], BY_KEY["dn14"], BY_KEY["reg04"]])
        ev.append(dlp(day_time(9, 17), "Exchange", "NHS numbers external", 1, "audit", who, "discharge_letter.pdf",
                      "email", external=[pick(EXTERNAL[:2] + EXTERNAL[3:4])], subject="Discharge letter"))
    # a community physio copies two referral letters to an encrypted USB stick
    physio = BY_KEY["physio09"]
    for k in range(2):
        ev.append(dlp(hms(16, 2 + k * 20), "Endpoint", "NHS numbers removable media", 1, "warn", physio,
                      "referral_letter_%d.docx" % (k + 1), "removable_media", path="E:\\referral_letter_%d.docx" % (k + 1)))
    # a blocked copy of a clinic list to USB (the policy stopped it)
    ev.append(dlp(hms(13, 12), "Endpoint", "NHS numbers removable media", 140, "block", BY_KEY["recep25"],
                  "clinic_list.xlsx", "removable_media", path="E:\\clinic_list.xlsx"))
    # finance statements to a supplier: card numbers, not patient data
    ev.append(dlp(hms(11, 30), "Exchange", "Card numbers external", 12, "audit", BY_KEY["fin11"], "statement.pdf",
                  "email", external=["accounts@supplier.example"], subject="statement", sit="Credit Card Number",
                  policy="Financial data"))
    return ev


# ------------------------------------------------------- Windows endpoints --

MS = ("Microsoft Corporation", "Microsoft® Windows® Operating System", "10.0.19041.4355")
IMAGES = {
    # key: (folder path, company, product, version, original file name, description)
    "winlogon": ("C:\\Windows\\System32\\winlogon.exe", *MS, "WINLOGON.EXE", "Windows Logon Application"),
    "userinit": ("C:\\Windows\\System32\\userinit.exe", *MS, "USERINIT.EXE", "Userinit Logon Application"),
    "explorer": ("C:\\Windows\\explorer.exe", *MS, "EXPLORER.EXE", "Windows Explorer"),
    "svchost": ("C:\\Windows\\System32\\svchost.exe", *MS, "svchost.exe", "Host Process for Windows Services"),
    "services": ("C:\\Windows\\System32\\services.exe", *MS, "services.exe", "Services and Controller app"),
    "cmd": ("C:\\Windows\\System32\\cmd.exe", *MS, "Cmd.Exe", "Windows Command Processor"),
    "powershell": ("C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe", *MS, "PowerShell.EXE",
                   "Windows PowerShell"),
    "conhost": ("C:\\Windows\\System32\\conhost.exe", *MS, "CONHOST.EXE", "Console Window Host"),
    "taskhostw": ("C:\\Windows\\System32\\taskhostw.exe", *MS, "taskhostw.exe", "Host Process for Windows Tasks"),
    "gpupdate": ("C:\\Windows\\System32\\gpupdate.exe", *MS, "GPUpdate.exe", "Microsoft® Group Policy Update Utility"),
    "ipconfig": ("C:\\Windows\\System32\\ipconfig.exe", *MS, "ipconfig.exe", "IP Configuration Utility"),
    "tasklist": ("C:\\Windows\\System32\\tasklist.exe", *MS, "tasklist.exe", "Lists the current running tasks"),
    "mstsc": ("C:\\Windows\\System32\\mstsc.exe", *MS, "mstsc.exe", "Remote Desktop Connection"),
    "net": ("C:\\Windows\\System32\\net.exe", *MS, "net.exe", "Net Command"),
    "net1": ("C:\\Windows\\System32\\net1.exe", *MS, "net1.exe", "Net Command"),
    "sc": ("C:\\Windows\\System32\\sc.exe", *MS, "sc.exe", "Service Control Manager Configuration Tool"),
    "msiexec": ("C:\\Windows\\System32\\msiexec.exe", *MS, "msiexec.exe", "Windows® installer"),
    "wuauclt": ("C:\\Windows\\System32\\wuauclt.exe", *MS, "wuauclt.exe", "Windows Update"),
    "vssadmin": ("C:\\Windows\\System32\\vssadmin.exe", *MS, "VSSADMIN.EXE",
                 "Command Line Interface for Microsoft® Volume Shadow Copy Service"),
    "wbadmin": ("C:\\Windows\\System32\\wbadmin.exe", *MS, "WBADMIN.EXE",
                "Command Line Interface for Microsoft® BLB Backup"),
    "wevtutil": ("C:\\Windows\\System32\\wevtutil.exe", *MS, "wevtutil.exe", "Eventing Command Line Utility"),
    "notepad": ("C:\\Windows\\System32\\notepad.exe", *MS, "NOTEPAD.EXE", "Notepad"),
    "werfault": ("C:\\Windows\\System32\\WerFault.exe", *MS, "WerFault.exe", "Windows Problem Reporting"),
    "robocopy": ("C:\\Windows\\System32\\Robocopy.exe", *MS, "robocopy.exe", "Microsoft Robocopy"),
    "whoami": ("C:\\Windows\\System32\\whoami.exe", *MS, "whoami.exe", "whoami - displays logged on user information"),
    "spoolsv": ("C:\\Windows\\System32\\spoolsv.exe", *MS, "spoolsv.exe", "Spooler SubSystem App"),
    "mpcmdrun": ("C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24080.9-0\\MpCmdRun.exe",
                 "Microsoft Corporation", "Microsoft® Windows® Operating System", "4.18.24080.9", "MpCmdRun.exe",
                 "Microsoft Malware Protection Command Line Utility"),
    "ccmexec": ("C:\\Windows\\CCM\\CcmExec.exe", "Microsoft Corporation", "System Center Configuration Manager",
                "5.0.9122.1000", "CcmExec.exe", "CCM Executive"),
    "msedge": ("C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe", "Microsoft Corporation",
               "Microsoft Edge", "124.0.2478.80", "msedge.exe", "Microsoft Edge"),
    "chrome": ("C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", "Google LLC", "Google Chrome",
               "124.0.6367.91", "chrome.exe", "Google Chrome"),
    "outlook": ("C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE", "Microsoft Corporation",
                "Microsoft Outlook", "16.0.17328.20184", "Outlook.exe", "Microsoft Outlook"),
    "winword": ("C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "Microsoft Corporation",
                "Microsoft Office", "16.0.17328.20184", "WinWord.exe", "Microsoft Word"),
    "excel": ("C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE", "Microsoft Corporation",
              "Microsoft Office", "16.0.17328.20184", "Excel.exe", "Microsoft Excel"),
    "teams": ("C:\\Program Files\\WindowsApps\\MSTeams_24060.2623.2790.8046_x64__8wekyb3d8bbwe\\ms-teams.exe",
              "Microsoft Corporation", "Microsoft Teams", "24060.2623.2790.8046", "ms-teams.exe", "Microsoft Teams"),
    "onedrive": ("C:\\Program Files\\Microsoft OneDrive\\OneDrive.exe", "Microsoft Corporation", "Microsoft OneDrive",
                 "24.040.0225.0002", "OneDrive.exe", "Microsoft OneDrive"),
    "acrobat": ("C:\\Program Files\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe", "Adobe Systems Incorporated",
                "Adobe Acrobat", "24.2.20736.0", "Acrobat.exe", "Adobe Acrobat"),
    "eprclient": ("C:\\Program Files\\EPR Vendor\\Client\\EPRClient.exe", "EPR Vendor Ltd", "EPR Client",
                  "24.3.0.112", "EPRClient.exe", "EPR Client"),
    "pacsviewer": ("C:\\Program Files\\PACSVendor\\Viewer\\PACSViewer.exe", "PACS Vendor Ltd", "PACS Viewer",
                   "12.1.4.0", "PACSViewer.exe", "PACS Diagnostic Viewer"),
    "citrix": ("C:\\Program Files (x86)\\Citrix\\ICA Client\\SelfServicePlugin\\SelfServicePlugin.exe",
               "Citrix Systems, Inc.", "Citrix Workspace", "24.2.0.187", "SelfServicePlugin.exe",
               "Citrix Workspace Self-Service"),
    "labresults": ("C:\\Program Files\\LIMS Vendor\\LabResults.exe", "LIMS Vendor Ltd", "LabResults",
                   "8.4.2.0", "LabResults.exe", "Laboratory Results Viewer"),
    "veeam": ("C:\\Program Files\\Veeam\\Endpoint Backup\\VeeamAgent.exe", "Veeam Software Group GmbH",
              "Veeam Agent for Microsoft Windows", "6.1.0.349", "VeeamAgent.exe", "Veeam Agent"),
    "mcservice": ("C:\\Program Files\\Mirth Connect\\mcservice.exe", "NextGen Healthcare", "Mirth Connect",
                  "4.5.0", "mcservice.exe", "Mirth Connect Service"),
    "java_mirth": ("C:\\Program Files\\Mirth Connect\\jre\\bin\\java.exe", "Eclipse Adoptium", "OpenJDK Platform",
                   "17.0.10", "java.exe", "OpenJDK Platform binary"),
    "python": ("C:\\Program Files\\Python311\\python.exe", "Python Software Foundation", "Python", "3.11.8",
               "python.exe", "Python"),
    "teamviewer_pacs": ("C:\\Program Files\\Trust Managed\\PACSVendor TeamViewer\\TeamViewer.exe",
                        "TeamViewer Germany GmbH", "TeamViewer", "15.51.5", "TeamViewer.exe", "TeamViewer"),
    "rclone": ("C:\\Program Files\\rclone\\rclone.exe", "https://rclone.org", "Rclone", "1.66.0", "rclone.exe",
               "Rsync for cloud storage"),
    "sqlservr": ("C:\\Program Files\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe",
                 "Microsoft Corporation", "Microsoft SQL Server", "2019.150.4360.2", "sqlservr.exe", "SQL Server"),
    "sqlcmd": ("C:\\Program Files\\Microsoft SQL Server\\Client SDK\\ODBC\\170\\Tools\\Binn\\SQLCMD.EXE",
               "Microsoft Corporation", "Microsoft SQL Server", "15.0.4360.2", "sqlcmd.exe", "T-SQL execution utility"),
}


class Host:
    def __init__(self, fqdn, ip, kind):
        self.fqdn = fqdn
        self.ip = ip
        self.kind = kind
        self.device_id = hexid("device", fqdn.split(".")[0])


SERVERS = {
    "fs01": Host("fs01.trust.example", "10.40.0.11", "server"),
    "app03": Host("app03.trust.example", "10.40.0.23", "server"),
    "int01": Host("int01.trust.example", "10.60.2.5", "server"),
    "bkp01": Host("bkp01.trust.example", "10.40.0.41", "server"),
    "sccm01": Host("sccm01.trust.example", "10.40.0.50", "server"),
    "dc01": Host("dc01.trust.example", "10.40.0.5", "server"),
    "sql01": Host("sql01.trust.example", "10.40.0.31", "server"),
    "print01": Host("print01.trust.example", "10.40.0.60", "server"),
    "pacs-ws-0003": Host("pacs-ws-0003.trust.example", "10.30.0.3", "workstation"),
}

_pid = [4000]
_report = [90000]


class Proc:
    def __init__(self, image, cmdline, pid, t, account, parent=None):
        self.image, self.cmdline, self.pid, self.t, self.account, self.parent = image, cmdline, pid, t, account, parent


def account_fields(account):
    """account: Person, or (domain, name, sid) tuple for service identities."""
    if isinstance(account, Person):
        return "TRUST", account.sam, account.sid, account.sam + "@trust.example", "Medium", "TokenElevationTypeLimited"
    domain, name, sid = account
    if domain == "NT AUTHORITY":
        return domain, name, sid, "", "System", "TokenElevationTypeDefault"
    return domain, name, sid, name + "@trust.example", "High", "TokenElevationTypeFull"


SYSTEM = ("NT AUTHORITY", "system", "S-1-5-18")
LOCAL_SERVICE = ("NT AUTHORITY", "local service", "S-1-5-19")


def svc_account(name):
    return ("TRUST", name, "S-1-5-21-1004336348-1177238915-682003330-%d" % (1100 + int(hexid("sid", name, n=6), 16) % 8000))


def proc_event(host, image_key, cmdline, t, account, parent, logon_id):
    path, company, product, version, original, desc = IMAGES[image_key]
    _pid[0] += rng.randint(4, 400)
    _report[0] += rng.randint(1, 30)
    pid = _pid[0] % 60000 + 1000
    dom, name, sid, upn, integ, elev = account_fields(account)
    pdom, pname, psid, _, _, _ = account_fields(parent.account)
    ppath = IMAGES[parent.image][0]
    pfile = ppath.rsplit("\\", 1)[1]
    e = {
        "Timestamp": ts(t), "DeviceId": host.device_id, "DeviceName": host.fqdn, "ActionType": "ProcessCreated",
        "FileName": path.rsplit("\\", 1)[1], "FolderPath": path,
        "SHA1": hexid("sha1", path, n=40), "SHA256": hexid("sha256", path, n=64), "MD5": hexid("md5", path, n=32),
        "FileSize": 40000 + int(hexid("size", path, n=6), 16) % 4000000,
        "ProcessVersionInfoCompanyName": company, "ProcessVersionInfoProductName": product,
        "ProcessVersionInfoProductVersion": version,
        "ProcessVersionInfoInternalFileName": original.rsplit(".", 1)[0],
        "ProcessVersionInfoOriginalFileName": original, "ProcessVersionInfoFileDescription": desc,
        "ProcessId": pid, "ProcessCommandLine": cmdline, "ProcessIntegrityLevel": integ,
        "ProcessTokenElevation": elev, "ProcessCreationTime": ts(t),
        "AccountDomain": dom, "AccountName": name, "AccountSid": sid, "AccountUpn": upn, "LogonId": logon_id,
        "InitiatingProcessAccountDomain": pdom, "InitiatingProcessAccountName": pname,
        "InitiatingProcessAccountSid": psid, "InitiatingProcessSHA256": hexid("sha256", ppath, n=64),
        "InitiatingProcessFileName": pfile, "InitiatingProcessFolderPath": ppath,
        "InitiatingProcessId": parent.pid, "InitiatingProcessCommandLine": parent.cmdline,
        "InitiatingProcessCreationTime": ts(parent.t),
        "InitiatingProcessVersionInfoOriginalFileName": IMAGES[parent.image][4],
        "InitiatingProcessParentId": parent.parent.pid if parent.parent else 4,
        "InitiatingProcessParentFileName": IMAGES[parent.parent.image][0].rsplit("\\", 1)[1] if parent.parent else "System",
        "ReportId": _report[0],
    }
    return e, Proc(image_key, cmdline, pid, t, account, parent)


def root_proc(image_key, cmdline, t, account):
    return Proc(image_key, cmdline, 600 + rng.randint(0, 300) * 4, t, account)


def gen_processes():
    ev = []

    def run(host, parent, image, cmd, t, account=None, logon=None):
        account = account or parent.account
        if logon is None:
            name = account.key if isinstance(account, Person) else account[1]
            logon = 999 if account in (SYSTEM, LOCAL_SERVICE) else 200000 + int(hexid("logon", name, n=5), 16) % 700000
        e, p = proc_event(host, image, cmd, t, account, parent, logon)
        ev.append(e)
        return p

    q = lambda key: '"%s"' % IMAGES[key][0]
    # --- clinical and corporate workstations: logon, then the day's applications
    for who in PEOPLE:
        host = Host(who.fqdn, who.ip, "workstation")
        logon = 200000 + int(hexid("logon", who.key, n=5), 16) % 700000
        start = (day_time(19, 20) if who.night else day_time(7, 8.6))
        winlogon = root_proc("winlogon", "winlogon.exe", start - 5, SYSTEM)
        ui = run(host, winlogon, "userinit", "C:\\Windows\\system32\\userinit.exe", start, who, logon)
        ex = run(host, ui, "explorer", "C:\\Windows\\Explorer.EXE", start + 2, who, logon)
        end = min(start + 10 * 3600, 86390)
        t = start + 20
        apps = ["teams", "outlook", "msedge"]
        if who.role in ("consultant", "hca", "nurse", "pharmacist", "doctor", "midwife", "ahp", "clerk"):
            apps.append("eprclient")
        if who.role == "radiologist":
            apps += ["pacsviewer", "citrix", "eprclient"]
        if who.role == "scientist":
            apps.append("labresults")
        for app in apps:
            t += rng.uniform(10, 120)
            if app == "eprclient":
                run(host, ex, app, q(app) + " /sso", t, who, logon)
            elif app == "teams":
                run(host, ex, app, q(app) + " msteams:system-initiated", t, who, logon)
            elif app == "msedge":
                edge = run(host, ex, app, q(app) + " --single-argument https://intranet.trust.example/", t, who, logon)
                for k in range(rng.randint(2, 4)):
                    run(host, edge, app, q(app) + " --type=renderer --lang=en-GB --js-flags=--ms-user-locale= "
                        "--device-scale-factor=1 --num-raster-threads=4 --renderer-client-id=%d" % (5 + k),
                        t + 1 + k, who, logon)
            elif app == "citrix":
                run(host, ex, app, q(app) + " /startup", t, who, logon)
            elif app == "labresults":
                run(host, ex, app, q(app) + " --site PATH", t, who, logon)
            else:
                run(host, ex, app, q(app), t, who, logon)
        n = rng.randint(14, 30)
        for _ in range(n):
            t = rng.uniform(start + 600, end)
            r = rng.random()
            if r < 0.18 and who.role not in ("admin", "it"):
                # the EPR client opening a patient from the worklist
                pt = pick(PATIENTS)
                run(host, ex, "eprclient", q("eprclient") + " /sso /patient " + pt.nhs, t, who, logon)
            elif r < 0.33:
                doc = pick(["Handover.docx", "Referral letter.docx", "Meeting notes.docx", "Rota.docx",
                            "Care plan.docx", "Minutes.docx"])
                share = "\\\\fs01.trust.example\\%s\\%s" % (pick(["Wards\\Ward7", "Corporate", "Therapies", "Maternity",
                                                                 "Finance", "Coding"]), doc)
                run(host, ex, "winword", q("winword") + ' /n "%s"' % share, t, who, logon)
            elif r < 0.45:
                xl = pick(["Bed state.xlsx", "Budget 2025-26.xlsx", "Audit data.xlsx", "Stock levels.xlsx",
                           "Activity report.xlsx"])
                run(host, ex, "excel", q("excel") + ' "\\\\fs01.trust.example\\Corporate\\%s"' % xl, t, who, logon)
            elif r < 0.62:
                url = pick(["https://intranet.trust.example/policies", "https://www.nice.org.uk.example/guidance",
                            "https://bnf.example/drugs", "https://learning.trust.example/", "https://esr.example/",
                            "https://outlook.office.example/mail/", "https://rota.trust.example/"])
                browser = pick(["msedge", "chrome"])
                run(host, ex, browser, q(browser) + " " + url, t, who, logon)
            elif r < 0.72:
                pdf = pick(["NICE guideline.pdf", "Drug chart.pdf", "Patient leaflet.pdf", "Policy.pdf"])
                run(host, ex, "acrobat", q("acrobat") + ' "C:\\Users\\%s\\Downloads\\%s"' % (who.sam, pdf), t, who, logon)
            elif r < 0.80:
                run(host, ex, "onedrive", q("onedrive") + " /background", t, who, logon)
            elif r < 0.88 and who.role == "radiologist":
                run(host, ex, "pacsviewer", q("pacsviewer") + " -study " + pick(STUDIES)[1], t, who, logon)
            elif r < 0.94:
                # Teams and Office update helpers and the task host
                th = root_proc("svchost", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", start - 60, SYSTEM)
                run(host, th, "taskhostw", "taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly",
                    t, who, logon)
            else:
                run(host, ex, "notepad", q("notepad") + " C:\\Users\\%s\\Documents\\notes.txt" % who.sam, t, who, logon)
        # the EPR client crashing once for a few users, Windows Error Reporting collecting the fault
        if who.key in ("nurse01", "recep25", "pharm08"):
            t = rng.uniform(start + 7200, end)
            run(host, ex, "werfault", "C:\\Windows\\system32\\WerFault.exe -u -p %d -s 512" % rng.randint(2000, 9000),
                       t, who, logon)
    # --- the IT service desk laptop: ordinary admin work
    it = BY_KEY["itsup02"]
    ithost = Host(it.fqdn, it.ip, "workstation")
    itroot = root_proc("explorer", "C:\\Windows\\Explorer.EXE", hms(8, 2), it)
    for k in range(14):
        t = hms(8, 30) + k * 1800 + rng.uniform(0, 600)
        cmd = run(ithost, itroot, "cmd", '"C:\\Windows\\system32\\cmd.exe"', t, it)
        c = pick(["ipconfig /all", "tasklist /svc /fi \"imagename eq svchost.exe\"", "whoami /groups",
                  "net use", "sc query spooler", "gpupdate.exe /target:user /force",
                  "mstsc.exe /v:app03.trust.example", "net user %s /domain" % pick(PEOPLE).sam])
        image = {"ipconfig": "ipconfig", "tasklist": "tasklist", "whoami": "whoami", "net": "net", "sc": "sc",
                 "gpupdate.exe": "gpupdate", "mstsc.exe": "mstsc"}[c.split()[0]]
        run(ithost, cmd, image, c, t + 5, it)
    # --- servers: AV signature updates, patching, SCCM, backups, print spooler restart
    svc = root_proc("services", "C:\\Windows\\system32\\services.exe", 10, SYSTEM)
    for key, host in SERVERS.items():
        for k in range(4):   # Defender signature updates every six hours
            t = hms(k * 6, 15) + rng.uniform(0, 900)
            run(host, svc, "mpcmdrun", q("mpcmdrun") + " SignatureUpdate -MMPC", t, SYSTEM)
            run(host, svc, "mpcmdrun", q("mpcmdrun") + " -wdenable", t + 30, SYSTEM)
        ccm = root_proc("ccmexec", q("ccmexec"), 20, SYSTEM)
        ps = run(host, ccm, "powershell", "powershell.exe -NoProfile -ExecutionPolicy Bypass -File "
                 "C:\\Windows\\CCM\\SystemTemp\\inventory.ps1", hms(3, 10) + rng.uniform(0, 1200), SYSTEM)
        run(host, ps, "conhost", "\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1", ps.t + 0.2, SYSTEM)
        run(host, svc, "wuauclt", '"C:\\Windows\\system32\\wuauclt.exe" /RunHandlerComServer', hms(4, 5) + rng.uniform(0, 600), SYSTEM)
    # nightly file-server backup: Veeam, shadow copy listing, Windows Server Backup of the system state
    fs = SERVERS["fs01"]
    veeam_acct = svc_account("svc-veeam")
    veeam = run(fs, svc, "veeam", q("veeam") + " -job nightly", hms(1, 0), veeam_acct)
    run(fs, veeam, "vssadmin", "vssadmin.exe list shadows /for=D:", hms(1, 0, 2), veeam_acct)
    run(fs, veeam, "vssadmin", "vssadmin.exe list shadowstorage", hms(1, 0, 4), veeam_acct)
    for key in ("dc01", "app03", "sql01"):
        host = SERVERS[key]
        sched = root_proc("svchost", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", 30, SYSTEM)
        run(host, sched, "wbadmin", "wbadmin start systemstatebackup -backupTarget:E: -quiet", hms(2, 0) + rng.uniform(0, 300), SYSTEM)
    # the sanctioned off-site copy from the backup server to the trust's immutable vault
    bkp = SERVERS["bkp01"]
    bsched = root_proc("svchost", "C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule", 30, SYSTEM)
    bcmd = run(bkp, bsched, "cmd", 'cmd.exe /c "D:\\Scripts\\offsite_copy.cmd"', hms(3, 30), svc_account("svc-backup"))
    run(bkp, bcmd, "rclone", '"C:\\Program Files\\rclone\\rclone.exe" sync D:\\VeeamRepo\\Weekly '
        'trust-immutable-vault:weekly --transfers 8 --log-file D:\\Logs\\offsite.log', hms(3, 30, 2),
        svc_account("svc-backup"))
    # SQL maintenance on the EPR reporting database
    sql = SERVERS["sql01"]
    agent = root_proc("sqlservr", q("sqlservr") + " -sMSSQLSERVER", 30, svc_account("svc-sql"))
    run(sql, agent, "sqlcmd", 'sqlcmd.exe -S localhost -E -Q "EXEC dbo.IndexOptimize @Databases = \'EPR_Reporting\'"',
        hms(0, 30), svc_account("svc-sql"))
    # SCCM deploying a new EPR client to workstations (not a remote-access tool)
    for who in PEOPLE[:8]:
        host = Host(who.fqdn, who.ip, "workstation")
        ccm = root_proc("ccmexec", q("ccmexec"), 20, SYSTEM)
        run(host, ccm, "msiexec", 'C:\\Windows\\system32\\msiexec.exe /i "C:\\Windows\\ccmcache\\4f\\EPRClient-24.3.msi" '
            '/qn /norestart', hms(12, 30) + rng.uniform(0, 1800), SYSTEM)
    # a stuck print queue: the spooler restarted once by the print-server admin
    pr = SERVERS["print01"]
    adm = svc_account("adm-print1")
    pcmd = root_proc("cmd", "cmd.exe", hms(10, 40), adm)
    n1 = run(pr, pcmd, "net", "net stop spooler", hms(10, 41), adm)
    run(pr, n1, "net1", "C:\\Windows\\system32\\net1 stop spooler", hms(10, 41, 1), adm)
    n2 = run(pr, pcmd, "net", "net start spooler", hms(10, 41, 30), adm)
    run(pr, n2, "net1", "C:\\Windows\\system32\\net1 start spooler", hms(10, 41, 31), adm)
    # event-log inspection on the domain controller by the SOC
    dc = SERVERS["dc01"]
    soc = svc_account("adm-soc1")
    scmd = root_proc("cmd", "cmd.exe", hms(11, 0), soc)
    run(dc, scmd, "wevtutil", "wevtutil.exe qe Security /c:20 /rd:true /f:text", hms(11, 0, 10), soc)
    run(dc, scmd, "wevtutil", "wevtutil.exe gl Security", hms(11, 1, 0), soc)
    # the integration engine: Mirth service starts its JVM after the monthly patch reboot
    intg = SERVERS["int01"]
    mc = run(intg, svc, "mcservice", q("mcservice"), hms(4, 20), SYSTEM)
    run(intg, mc, "java_mirth", q("java_mirth") + " -Xmx4096m -jar mirth-server-launcher.jar", hms(4, 20, 2), SYSTEM)
    # the PACS supplier's sanctioned TeamViewer in its managed folder
    pws = SERVERS["pacs-ws-0003"]
    padm = svc_account("pacs.admin")
    pex = root_proc("explorer", "C:\\Windows\\Explorer.EXE", hms(13, 55), padm)
    run(pws, pex, "teamviewer_pacs", q("teamviewer_pacs"), hms(14, 2), padm)
    # a coder's reporting script and copying the output to the share
    coder = BY_KEY["coder13"]
    chost = Host(coder.fqdn, coder.ip, "workstation")
    cex = root_proc("explorer", "C:\\Windows\\Explorer.EXE", hms(8, 0), coder)
    ccmd = run(chost, cex, "cmd", '"C:\\Windows\\system32\\cmd.exe"', hms(8, 43), coder)
    run(chost, ccmd, "python", "python.exe C:\\Users\\%s\\reports\\monthly_activity.py --month 2025-02" % coder.sam,
        hms(8, 43, 39), coder)
    run(chost, ccmd, "robocopy", "robocopy C:\\Users\\%s\\reports \\\\fs01.trust.example\\Coding\\Reports *.xlsx /Z /R:2"
        % coder.sam, hms(8, 45, 16), coder)
    return ev


# ------------------------------------------------------ Windows network --

O365 = [("outlook.office365.example", "198.51.100.20"), ("teams.microsoft.example", "198.51.100.21"),
        ("trust.sharepoint.example", "198.51.100.22"), ("trust-my.sharepoint.example", "198.51.100.23"),
        ("login.microsoftonline.example", "198.51.100.24")]
WEB = [("www.nice.org.uk.example", "203.0.113.80"), ("bnf.example", "203.0.113.81"),
       ("news.example", "203.0.113.82"), ("esr.example", "203.0.113.83"), ("learning-hub.example", "203.0.113.84")]
INTERNAL_SVC = [("intranet.trust.example", "10.40.0.23", 443), ("epr-app01.trust.example", "10.40.0.70", 443),
                ("rota.trust.example", "10.40.0.24", 443), ("dc01.trust.example", "10.40.0.5", 389),
                ("dc01.trust.example", "10.40.0.5", 88)]


def net_event(t, host_name, host_ip, action, rip, rport, url, image, account, lport=None):
    path = IMAGES[image][0]
    dom, name, sid, _, integ, _ = account_fields(account)
    _report[0] += rng.randint(1, 30)
    private = rip.startswith("10.")
    return {
        "Timestamp": ts(t), "DeviceId": hexid("device", host_name.split(".")[0]), "DeviceName": host_name,
        "ActionType": action, "RemoteIP": rip, "RemotePort": rport, "RemoteUrl": url, "LocalIP": host_ip,
        "LocalPort": lport or rng.randint(49152, 65535), "Protocol": "Tcp", "LocalIPType": "Private",
        "RemoteIPType": "Private" if private else "Public",
        "InitiatingProcessSHA256": hexid("sha256", path, n=64) if image != "system" else "",
        "InitiatingProcessFileName": path.rsplit("\\", 1)[1] if image != "system" else "System",
        "InitiatingProcessVersionInfoOriginalFileName": IMAGES[image][4] if image != "system" else "",
        "InitiatingProcessId": rng.randint(1000, 60000) if image != "system" else 4,
        "InitiatingProcessCommandLine": ('"%s"' % path) if image != "system" else "",
        "InitiatingProcessFolderPath": path if image != "system" else "",
        "InitiatingProcessAccountDomain": dom, "InitiatingProcessAccountName": name,
        "InitiatingProcessAccountSid": sid, "InitiatingProcessIntegrityLevel": integ,
        "ReportId": _report[0],
    }


IMAGES["system"] = ("System", "", "", "", "", "")
FILE_SERVERS = [("10.40.0.11", "fs01.trust.example"), ("10.40.0.60", "print01.trust.example"),
                ("10.40.0.5", "dc01.trust.example")]


def gen_network():
    ev = []
    for who in PEOPLE:
        start = (day_time(19, 20) if who.night else day_time(7, 8.6))
        end = min(start + 10 * 3600, 86390)
        # drive mappings and SYSVOL at logon
        for rip, name in FILE_SERVERS:
            ev.append(net_event(start + rng.uniform(3, 20), who.fqdn, who.ip, "ConnectionSuccess", rip, 445, "",
                                "system", SYSTEM))
        for _ in range(rng.randint(10, 18)):
            t = rng.uniform(start, end)
            r = rng.random()
            if r < 0.35:
                url, rip = pick(O365)
                image = pick(["outlook", "teams", "onedrive", "msedge"])
                ev.append(net_event(t, who.fqdn, who.ip, "ConnectionSuccess", rip, 443, url, image, who))
            elif r < 0.55:
                url, rip = pick(WEB)
                ev.append(net_event(t, who.fqdn, who.ip, "ConnectionSuccess", rip, 443, url,
                                    pick(["msedge", "chrome"]), who))
            elif r < 0.85:
                url, rip, port = pick(INTERNAL_SVC)
                image = "eprclient" if "epr" in url else ("system" if port in (88, 389) else "msedge")
                ev.append(net_event(t, who.fqdn, who.ip, "ConnectionSuccess", rip, port, url, image,
                                    SYSTEM if image == "system" else who))
            else:
                rip, name = pick(FILE_SERVERS[:2])
                ev.append(net_event(t, who.fqdn, who.ip, "ConnectionSuccess", rip, 445, "", "system", SYSTEM))
        if who.role == "radiologist":
            for _ in range(8):
                ev.append(net_event(rng.uniform(start, end), who.fqdn, who.ip, "ConnectionSuccess", PACS_IP, 11112,
                                    "", "pacsviewer", who))
    # the file server accepting SMB from its clients
    for who in PEOPLE:
        ev.append(net_event(day_time(7, 18), "fs01.trust.example", "10.40.0.11", "InboundConnectionAccepted", who.ip,
                            rng.randint(49152, 65535), "", "system", SYSTEM, lport=445))
    # Configuration Manager and the vulnerability scanner reaching many clients (sanctioned fan-out hosts)
    for k, who in enumerate(PEOPLE):
        ev.append(net_event(hms(12, 30) + k * 2, "sccm01.trust.example", "10.40.0.50", "ConnectionSuccess", who.ip,
                            445, "", "system", SYSTEM))
        ev.append(net_event(hms(1, 0) + k * 3, "vscan01.trust.example", "10.40.0.55", "ConnectionSuccess", who.ip,
                            445, "", "system", SYSTEM))
    # Defender and Windows Update on servers
    for key, host in SERVERS.items():
        for k in range(4):
            ev.append(net_event(hms(k * 6, 15) + rng.uniform(0, 900), host.fqdn, host.ip, "ConnectionSuccess",
                                "198.51.100.30", 443, "definitionupdates.microsoft.example", "mpcmdrun", SYSTEM))
        ev.append(net_event(hms(4, 5) + rng.uniform(0, 600), host.fqdn, host.ip, "ConnectionSuccess", "10.40.0.50",
                            8530, "wsus01.trust.example", "svchost", SYSTEM))
    # the integration engine's MLLP listeners accepting from the PAS, EPR and LIMS
    for _ in range(40):
        src = pick([PAS_HOST, EPR_HOST] + LIMS_HOSTS + [RIS_HOST])
        ev.append(net_event(work_time(), "int01.trust.example", ENGINE_IP, "InboundConnectionAccepted", src,
                            rng.randint(40000, 60999), "", "java_mirth", SYSTEM, lport=pick([6661, 6662, 6663, 6664])))
    return ev


# --------------------------------------------------------- file renames --

def rename_event(t, device, fname, folder, prev_name, prev_folder, size, process, account, smb=None):
    _report[0] += rng.randint(1, 30)
    if smb:
        src_ip, who = smb
        init = {"InitiatingProcessAccountDomain": "NT AUTHORITY", "InitiatingProcessAccountName": "system",
                "InitiatingProcessAccountSid": "S-1-5-18", "InitiatingProcessFolderPath": "",
                "InitiatingProcessFileName": "System", "InitiatingProcessId": 4, "InitiatingProcessCommandLine": "",
                "InitiatingProcessIntegrityLevel": "System", "RequestProtocol": "SMB", "RequestSourceIP": src_ip,
                "RequestSourcePort": rng.randint(49152, 65535), "RequestAccountName": who.sam,
                "RequestAccountDomain": "TRUST", "RequestAccountSid": who.sid,
                "ShareName": prev_folder.split("\\")[3] if prev_folder.startswith("D:\\Shares\\") else ""}
    else:
        path = IMAGES[process][0]
        dom, name, sid, _, integ, _ = account_fields(account)
        init = {"InitiatingProcessAccountDomain": dom, "InitiatingProcessAccountName": name,
                "InitiatingProcessAccountSid": sid, "InitiatingProcessFolderPath": path,
                "InitiatingProcessFileName": path.rsplit("\\", 1)[1], "InitiatingProcessId": rng.randint(1000, 60000),
                "InitiatingProcessCommandLine": '"%s"' % path, "InitiatingProcessIntegrityLevel": integ,
                "RequestProtocol": "Local", "RequestSourceIP": "", "RequestSourcePort": 0, "RequestAccountName": "",
                "RequestAccountDomain": "", "RequestAccountSid": "", "ShareName": ""}
    e = {"Timestamp": ts(t), "DeviceId": hexid("device", device.split(".")[0]), "DeviceName": device,
         "ActionType": "FileRenamed", "FileName": fname, "FolderPath": folder + fname, "SHA1": "", "SHA256": "",
         "PreviousFolderPath": prev_folder, "PreviousFileName": prev_name, "FileSize": size}
    e.update(init)
    e["ReportId"] = _report[0]
    return e


def gen_renames():
    ev = []
    docs = ["Handover.docx", "Rota March.xlsx", "Bed state.xlsx", "Minutes 17-03.docx", "Audit data.xlsx",
            "Care plan.docx", "Budget 2025-26.xlsx", "Referral letter.docx", "Stock levels.xlsx", "Policy draft.docx"]
    shares = ["Wards", "Corporate", "Finance", "Coding", "Therapies", "Maternity"]
    for who in PEOPLE:
        for _ in range(rng.randint(3, 8)):
            t = day_time(8, 18)
            doc = pick(docs)
            share = pick(shares)
            folder = "D:\\Shares\\%s\\" % share
            tmp8 = hexid("tmp", who.key, t, n=8).upper()
            size = rng.randint(20000, 900000)
            # Office safe-save over SMB: the original becomes an 8-hex-digit name, the ~tmp file takes its place
            ev.append(rename_event(t, "fs01.trust.example", tmp8, folder, doc, folder, size, None, None,
                                   smb=(who.ip, who)))
            ev.append(rename_event(t + 0.4, "fs01.trust.example", doc, folder, "~WRD%04d.tmp" % rng.randint(1, 9999),
                                   folder, size, None, None, smb=(who.ip, who)))
        # a local document renamed to a better name, still a document
        if rng.random() < 0.5:
            t = day_time(9, 17)
            folder = "C:\\Users\\%s\\Documents\\" % who.sam
            ev.append(rename_event(t, who.fqdn, "Meeting notes 17-03.docx", folder, "Document1.docx", folder,
                                   rng.randint(15000, 60000), "explorer", who))
        # downloads completing in the browser
        if rng.random() < 0.6:
            t = day_time(9, 17)
            folder = "C:\\Users\\%s\\Downloads\\" % who.sam
            ev.append(rename_event(t, who.fqdn, "NICE guideline.pdf", folder, "Unconfirmed %d.crdownload" %
                                   rng.randint(100000, 999999), folder, rng.randint(200000, 4000000), "msedge", who))
    # scanned referrals renamed by the medical-records team, still PDFs
    mr = BY_KEY["clerk03"]
    for k in range(20):
        t = hms(10) + k * 240 + rng.uniform(0, 60)
        ev.append(rename_event(t, "fs01.trust.example", "Referral %s.pdf" % PATIENTS[k].mrn,
                               "D:\\Shares\\MedicalRecords\\Scans\\", "SCAN%04d.pdf" % (k + 1),
                               "D:\\Shares\\MedicalRecords\\Scans\\", rng.randint(100000, 900000), None, None,
                               smb=(mr.ip, mr)))
    # the integration engine rotating its logs at midnight
    for k, log in enumerate(["mirth.log", "main.log", "database.log"]):
        ev.append(rename_event(hms(0, 0, 1) + k, "int01.trust.example", log + ".1",
                               "C:\\Program Files\\Mirth Connect\\logs\\", log,
                               "C:\\Program Files\\Mirth Connect\\logs\\", rng.randint(1000000, 9000000),
                               "java_mirth", SYSTEM))
    # DICOM files arriving from a CD import under partial names
    for k in range(30):
        t = hms(14, 10) + k * 2
        ev.append(rename_event(t, "pacs-import01.trust.example", "IM%06d.dcm" % (k + 1), "E:\\Import\\CD0317\\",
                               "IM%06d.dcm.part" % (k + 1), "E:\\Import\\CD0317\\", rng.randint(500000, 900000),
                               "pacsviewer", svc_account("svc-pacsimport")))
    return ev


# ------------------------------------------------- boundary and firewall --

def traffic(t, src, dst, sport, dport, app, rule, action, fz, tz, user, sent, recv, loc="GB", url="", end="tcp-fin"):
    return {
        "TimeGenerated": ts(t), "SourceAddress": src, "DestinationAddress": dst, "SourcePort": sport,
        "DestinationPort": dport, "Protocol": "udp" if app in ("dns", "ntp") else "tcp", "Application": app,
        "Rule": rule, "Action": action, "FromZone": fz, "ToZone": tz, "SourceUser": user,
        "Bytes": sent + recv, "BytesSent": sent, "BytesReceived": recv, "DestinationLocation": loc,
        "SessionEndReason": end, "URLDomain": url,
    }


def gen_boundary():
    ev = []
    o365_apps = {"outlook.office365.example": "ms-office365-base", "teams.microsoft.example": "ms-teams",
                 "trust.sharepoint.example": "sharepoint-online", "trust-my.sharepoint.example": "ms-onedrive-base",
                 "login.microsoftonline.example": "ms-azure-base"}
    for who in PEOPLE:
        for _ in range(rng.randint(6, 12)):
            t = work_time()
            if rng.random() < 0.6:
                url, dst = pick(O365)
                app = o365_apps[url]
            else:
                url, dst = pick(WEB)
                app = "ssl"
            sent = rng.randint(2000, 4000000)
            ev.append(traffic(t, who.ip, dst, rng.randint(49152, 65535), 443, app, "trust-outbound-default", "allow",
                              "trust-workstations", "untrust", "trust\\" + who.sam, sent,
                              rng.randint(20000, 60000000), url=url))
    # OneDrive and SharePoint sync from the document-migration server
    for k in range(12):
        ev.append(traffic(hms(19) + k * 600, "10.40.1.30", "198.51.100.22", rng.randint(49152, 65535), 443,
                          "sharepoint-online", "trust-outbound-default", "allow", "trust-servers", "untrust",
                          "trust\\svc-spsync", rng.randint(50000000, 400000000), rng.randint(1000000, 5000000),
                          url="trust.sharepoint.example"))
    # a supplier's brochure opened from a Dropbox link (a small download)
    ev.append(traffic(hms(14, 22), BY_KEY["fin11"].ip, "192.0.2.140", 52012, 443, "dropbox-base",
                      "trust-outbound-default", "allow", "trust-workstations", "untrust", "trust\\fin.example11",
                      24000, 2300000, url="www.dropbox.example"))
    # medical-device vendors' approved support endpoints
    for k in range(20):
        src = pick(["10.70.8.21", "10.70.9.14", "10.70.10.33"])
        ev.append(traffic(k * 4300 + rng.uniform(0, 600), src, pick(["192.0.2.200", "198.51.100.36"]),
                          rng.randint(49152, 65535), 443, "ssl", "iomt-vendor-support", "allow",
                          pick(["iomt-infusion", "iomt-monitoring"]), "untrust", "", rng.randint(2000, 90000),
                          rng.randint(2000, 300000)))
    # teleradiology partner over DICOM TLS on 2762
    for k in range(18):
        ev.append(traffic(hms(18) + k * 1200 + rng.uniform(0, 300), "10.50.0.45", "203.0.113.60",
                          rng.randint(49152, 65535), 2762, "dicom", "telerad-dicom-tls", "allow", "trust-servers",
                          "untrust", "", rng.randint(20000000, 300000000), rng.randint(20000, 90000)))
    # internet noise dropped at the boundary
    for k in range(60):
        ev.append(traffic(k * 1440 + rng.uniform(0, 1000), "203.0.113.%d" % rng.randint(100, 250), "192.0.2.%d"
                          % rng.randint(10, 50), rng.randint(1024, 65535), pick([22, 23, 445, 3389, 104, 11112]),
                          "incomplete", "deny-inbound-default", "deny", "untrust", "trust-dmz", "", 60, 0,
                          loc=pick(["NL", "US", "DE", "SG"]), end="policy-deny"))
    # DNS forwarders and NTP
    for k in range(48):
        ev.append(traffic(k * 1800 + 20, "10.40.0.5", "198.51.100.53", rng.randint(49152, 65535), 53, "dns",
                          "dns-forwarders", "allow", "trust-servers", "untrust", "", rng.randint(2000, 9000),
                          rng.randint(4000, 20000), end="aged-out"))
    return ev


def gen_firewall():
    ev = []
    jump = ["10.90.0.5", "10.90.0.6", "10.90.1.10"]
    # clinical workstations to internal servers
    for who in PEOPLE:
        for _ in range(rng.randint(6, 12)):
            t = work_time()
            name, dst, port = pick(INTERNAL_SVC + [("fs01.trust.example", "10.40.0.11", 445)])
            app = {443: "ssl", 445: "ms-ds-smb-base", 389: "ldap", 88: "kerberos"}[port]
            ev.append(traffic(t, who.ip, dst, rng.randint(49152, 65535), port, app, "workstations-to-servers", "allow",
                              "trust-workstations", "trust-servers", "trust\\" + who.sam, rng.randint(2000, 900000),
                              rng.randint(2000, 9000000)))
        # web browsing via the firewall to the boundary
        for _ in range(rng.randint(2, 5)):
            url, dst = pick(WEB)
            ev.append(traffic(work_time(), who.ip, dst, rng.randint(49152, 65535), 443, "ssl", "workstations-web",
                              "allow", "trust-workstations", "untrust", "trust\\" + who.sam,
                              rng.randint(5000, 60000), rng.randint(50000, 3000000), url=url))
    # modalities storing to PACS, from the imaging VLAN to the server zone
    for (t0, uid, pt, inst, per, mod) in STUDIES:
        src = [m[1] for m in MODALITIES if m[0] == mod][0]
        ev.append(traffic(t0, src, PACS_IP, rng.randint(49152, 65535), 11112, "dicom", "modalities-to-pacs", "allow",
                          "imaging-modalities", "trust-servers", "", min(inst * per, 900000000), 40000))
    # infusion pumps and monitors reporting to their servers
    for k in range(96):
        ev.append(traffic(k * 900 + 7, "10.70.8.%d" % rng.randint(20, 60), "10.40.5.10", rng.randint(49152, 65535),
                          443, "ssl", "iomt-infusion-to-server", "allow", "iomt-infusion", "trust-servers", "",
                          rng.randint(2000, 20000), rng.randint(1000, 6000)))
        ev.append(traffic(k * 900 + 11, "10.70.9.%d" % rng.randint(20, 60), "10.40.5.11", rng.randint(49152, 65535),
                          2575, "hl7", "iomt-monitoring-to-gateway", "allow", "iomt-monitoring", "trust-servers", "",
                          rng.randint(2000, 20000), rng.randint(500, 2000)))
    # clinical engineering administering devices from the jump hosts only
    for k in range(14):
        src = pick(jump)
        dst = pick(["10.70.8.%d" % rng.randint(20, 60), "10.70.10.%d" % rng.randint(20, 60), "10.50.3.11"])
        port, app = pick([(3389, "ms-rdp"), (22, "ssh"), (5900, "vnc")])
        ev.append(traffic(day_time(9, 16.5), src, dst, rng.randint(49152, 65535), port, app, "jump-to-devices",
                          "allow", "mgmt-jump", pick(["iomt-infusion", "imaging-modalities", "iomt-lab-analysers"]),
                          "trust\\clineng.example%02d" % rng.randint(1, 4), rng.randint(100000, 3000000),
                          rng.randint(1000000, 30000000)))
    # a device trying public NTP, blocked by policy
    for k in range(6):
        ev.append(traffic(k * 14400 + 100, "10.70.11.40", "198.51.100.123", 123, 123, "ntp", "iomt-deny-internet",
                          "deny", "iomt-lab-analysers", "untrust", "", 90, 0, end="policy-deny"))
    return ev


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    assoc, audit = gen_dicom()
    outputs = [
        ("ehr_record_access.ndjson", "healthcare.EhrAccess_CL", {"product": "ehr", "category": "record_access"},
         "A day of EPR record access by treating staff on shift: views, updates and prints within each "
         "clinician's caseload, reception patient searches, night staff on their own shift, the treating "
         "team viewing a VIP record, an emergency override with a care relationship.",
         gen_ehr(), "TimeGenerated"),
        ("entra_signins.ndjson", "sentinel.SigninLogs", {"product": "azure", "service": "signinlogs"},
         "A day of staff sign-ins from the trust's egress addresses: a fresh number-match MFA approval at the "
         "start of each shift, then Outlook, Teams, SharePoint and OneDrive riding on the token's MFA claim, a "
         "few mistyped passwords, two single declined pushes for different users hours after their approval, "
         "and clinicians reaching the Citrix gateway from home with MFA.",
         gen_signins(), "TimeGenerated"),
        ("cis2_smartcard_auth.ndjson", "healthcare.NhsCis2Auth_CL",
         {"product": "nhs_cis2", "category": "authentication"},
         "Smartcard (AAL3) authentications through the day: each member of staff at their own site, moving "
         "between workstations on that site, an occasional wrong PIN, night staff at the start of their shift, "
         "and consultants on VDI session hosts in the data centre.",
         gen_cis2(), "TimeGenerated"),
        ("pacs_dicom_associations.ndjson", "healthcare.DicomAssoc_CL", {"product": "dicom", "category": "association"},
         "A day of imaging traffic: modality worklist queries and stores to PACS, PACS archiving to the VNA, "
         "reporting workstations querying and retrieving to their own registered AE titles, the orthopaedic "
         "workstation's C-GET, AI triage and teleradiology retrieving to themselves, C-ECHO checks.",
         assoc, "TimeGenerated"),
        ("pacs_dicom_audit.ndjson", "healthcare.DicomAudit_CL", {"product": "dicom", "category": "audit"},
         "PACS audit trail of the same day: instances transferred to and viewed on reporting workstations, "
         "radiologist logins, the film library burning single studies to CD through the day and two MDT "
         "exports.",
         audit, "TimeGenerated"),
        ("hl7_messages.ndjson", "healthcare.Hl7Message_CL", {"product": "hl7v2", "category": "message"},
         "A day on the production integration engine: ADT from the PAS, orders from the EPR routed to pathology "
         "and radiology, results from the LIMS cluster, RIS and point-of-care middleware, ECG reports and "
         "blood-tracking messages, each inbound message from a registered sender and host, with the engine's "
         "outbound copies.",
         gen_hl7(), "TimeGenerated"),
        ("mirth_server_events.ndjson", "healthcare.MirthEvent_CL",
         {"product": "mirth_connect", "service": "server_event"},
         "Mirth Connect server events: integration engineers logging in (an occasional typo first), browsing "
         "channels and messages, updating and redeploying a channel, the monitoring account polling statistics "
         "every fifteen minutes, and the nightly configuration backup.",
         gen_mirth(), "TimeGenerated"),
        ("fhir_audit_events.ndjson", "healthcare.FhirAudit_CL", {"product": "fhir", "category": "audit_event"},
         "FHIR audit events: clinicians reading their own patients through the EPR web client, the NEWS2 engine, "
         "results notifier and MPI sync service clients, practitioner directory searches, and the approved bulk "
         "clients exporting from their own hosts overnight with status polling and file downloads.",
         gen_fhir(), "TimeGenerated"),
        ("purview_dlp.ndjson", "healthcare.PurviewDlp_CL", {"product": "purview", "service": "dlp"},
         "Purview DLP matches of an ordinary day: clinic lists and handovers e-mailed within NHSmail and saved to "
         "ward shares, single-patient discharge letters to care homes and GP surgeries, two referral letters "
         "copied to USB by a community physio, a blocked USB copy, and a card-number match on a supplier "
         "statement.",
         gen_dlp(), "TimeGenerated"),
        ("exchange_office_activity.ndjson", "sentinel.OfficeActivity", {"product": "m365", "service": "exchange"},
         "Exchange admin audit of an ordinary day: staff filing rules (rota, Datix, training, theatre lists, the "
         "staff bulletin marked read), leave cover forwarding to NHSmail colleagues with out-of-office replies, "
         "and local administrators granting shared-mailbox and calendar permissions.",
         gen_office_activity(), "TimeGenerated"),
        ("email_events.ndjson", "defender_xdr.EmailEvents", {"product": "m365", "service": "email"},
         "Mail flow of an ordinary day: staff writing to a handful of colleagues (some with links or "
         "attachments), a few outbound mails to care homes, GP surgeries and suppliers, inbound partner mail, "
         "and the approved staff bulletin sent to every ward inbox.",
         gen_email_events(), "Timestamp"),
        ("endpoint_process_creation.ndjson", "defender_xdr.DeviceProcessEvents",
         {"product": "windows", "category": "process_creation"},
         "A day of process starts on clinical and corporate endpoints and servers: logon shells, the EPR client "
         "opening patients from the worklist, PACS viewer and Citrix, browsers, Office, Teams, OneDrive and "
         "Acrobat, service-desk admin commands, Defender signature updates, patching and Configuration Manager "
         "inventory, the nightly Veeam and system-state backups, an EPR client package, a print spooler restart, "
         "event-log queries, the Mirth service starting its JVM and the PACS supplier's sanctioned TeamViewer. "
         "No rule may fire on it.",
         gen_processes(), "Timestamp"),
        ("endpoint_network_connections.ndjson", "defender_xdr.DeviceNetworkEvents",
         {"product": "windows", "category": "network_connection"},
         "Endpoint connections of an ordinary day: drive mappings and SYSVOL at logon, Office 365, web, intranet "
         "and EPR traffic, PACS viewers to the archive, the file server accepting its clients, Configuration "
         "Manager and the vulnerability scanner reaching every client, Defender and WSUS updates, and the "
         "integration engine's MLLP listeners.",
         gen_network(), "Timestamp"),
        ("endpoint_file_renames.ndjson", "defender_xdr.DeviceFileEvents",
         {"product": "windows", "category": "file_rename"},
         "Renames that are not encryption: Word and Excel safe-saves on the file server, local documents "
         "renamed, browser downloads completing, scanned referrals renamed by medical records, the integration "
         "engine's log rotation, and DICOM files from a CD import dropping their .part suffix.",
         gen_renames(), "Timestamp"),
        ("secure_boundary_traffic.ndjson", "healthcare.SecureBoundaryTraffic_CL",
         {"product": "nhs_secure_boundary", "service": "traffic"},
         "HSCN secure boundary traffic: staff Office 365 and web sessions, SharePoint sync from the migration "
         "server, one small Dropbox download of a supplier brochure, medical-device vendors' approved support "
         "endpoints, teleradiology over DICOM TLS to the registered partner, dropped internet scanning, DNS "
         "forwarders.",
         gen_boundary(), "TimeGenerated"),
        ("trust_firewall_traffic.ndjson", "healthcare.TrustFirewall_CL",
         {"product": "trust_firewall", "service": "traffic"},
         "Internal firewall traffic: workstations to intranet, EPR, directory and file servers, web browsing, "
         "modalities storing to PACS, infusion pumps and monitors reporting to their servers, clinical "
         "engineering administering devices from the jump hosts, and a device's public NTP attempt blocked.",
         gen_firewall(), "TimeGenerated"),
    ]
    total = 0
    for name, schema, logsource, desc, events, key in outputs:
        n = write_fixture(name, schema, logsource, desc, events, key)
        print("%-40s %6d" % (name, n))
        total += n
    print("%-40s %6d" % ("total", total))


if __name__ == "__main__":
    main()
