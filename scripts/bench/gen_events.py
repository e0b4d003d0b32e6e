"""Generate N process-creation events (Sigma generic field names) for the
replay benchmark. Deterministic: the same N gives the same file.

Values are drawn from realistic Windows paths and command lines. About one
event in a hundred carries a suspicious command line taken from the needles
of real SigmaHQ rules (shadow-copy deletion, LSASS dumps, encoded
PowerShell, discovery commands), so rules do fire, as they would on a busy
estate, without every event being an attack."""
import json
import random
import sys

n = int(sys.argv[1])
out = sys.argv[2]
rng = random.Random(20261129)
images = [
    "C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\explorer.exe",
    "C:\\Program Files\\EPRVendor\\EPRClient.exe", "C:\\Windows\\System32\\cmd.exe",
    "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
    "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
    "C:\\Windows\\System32\\rundll32.exe", "C:\\Windows\\System32\\whoami.exe",
    "C:\\Windows\\System32\\net.exe", "C:\\Windows\\System32\\reg.exe",
    "C:\\Windows\\System32\\vssadmin.exe", "C:\\Windows\\System32\\wbem\\WMIC.exe",
]
benign_args = [
    "/c echo hello", "-k netsvcs -p", "/sso", "--type=renderer --lang=en-GB",
    "-NoProfile -File C:\\Scripts\\report.ps1", "/print C:\\Users\\Public\\ward7.pdf",
    "--profile-directory=Default", "/background", "-Embedding", "/n /e,C:\\Users\\Public",
]
suspicious_args = [
    "user /domain", "query HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run",
    "delete shadows /all /quiet", "/all", "shadowcopy delete",
    "-enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
    "C:\\Windows\\System32\\comsvcs.dll, MiniDump 624 C:\\Temp\\l.dmp full",
    "-NoProfile -ExecutionPolicy Bypass -File C:\\Users\\Public\\a.ps1",
]


def arg():
    return rng.choice(suspicious_args) if rng.random() < 0.01 else rng.choice(benign_args)
users = ["nurse.example01", "svc-backup2", "SYSTEM", "radiographer.example05", "admin.example08"]
with open(out, "w", encoding="utf-8") as f:
    for i in range(n):
        image = rng.choice(images)
        event = {
            "UtcTime": f"2025-03-14 {i // 3600000 % 24:02d}:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}.{i % 1000:03d}",
            "ProcessGuid": f"{{{rng.getrandbits(128):032x}}}",
            "ProcessId": rng.randint(100, 65000),
            "Image": image,
            "OriginalFileName": image.rsplit("\\", 1)[1].upper(),
            "CommandLine": f"\"{image}\" {arg()}",
            "CurrentDirectory": "C:\\Windows\\system32\\",
            "User": f"TRUST\\{rng.choice(users)}",
            "IntegrityLevel": rng.choice(["Medium", "High", "System"]),
            "Hashes": f"SHA256={rng.getrandbits(256):064X}",
            "ParentImage": rng.choice(images),
            "ParentCommandLine": f"\"{rng.choice(images)}\" {arg()}",
            "Computer": f"ws{rng.randint(1, 5000):04d}.trust.example",
            # The rest of a Sysmon event 1, so events are the ~1.3 KB of real
            # telemetry rather than a hand-picked minimum.
            "EventID": 1,
            "Provider_Name": "Microsoft-Windows-Sysmon",
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "RuleName": "-",
            "FileVersion": f"10.0.19041.{rng.randint(1, 5000)} (WinBuild.160101.0800)",
            "Description": "Windows host process",
            "Product": "Microsoft Windows Operating System",
            "Company": "Microsoft Corporation",
            "LogonGuid": f"{{{rng.getrandbits(128):032x}}}",
            "LogonId": f"0x{rng.getrandbits(32):x}",
            "TerminalSessionId": rng.randint(0, 3),
            "ParentProcessGuid": f"{{{rng.getrandbits(128):032x}}}",
            "ParentProcessId": rng.randint(100, 65000),
            "ParentUser": "NT AUTHORITY\\SYSTEM",
        }
        f.write(json.dumps(event, separators=(",", ":")) + "\n")
