#!/usr/bin/env python3
"""The plain baseline a user might write instead of ucwa-eventd, for `make bench`: the Python
standard library only — autodiscover, the OAuth password grant, an application, then the long
poll, a GET per participant invitation, one JSON line per invitation event on stdout. No
checkpoint, no retries, no sanitising: the cheapest thing that prints the same facts.

    naive_client.py DISCOVER_URL USERNAME PASSWORD_FILE
"""
import http.client
import json
import re
import sys
import urllib.parse

discover, username, password_file = sys.argv[1:4]
password = open(password_file, encoding="utf-8").readline().rstrip("\r\n")
origin = urllib.parse.urlsplit(discover)
connection = http.client.HTTPConnection(origin.hostname, origin.port, timeout=300)
token = None


def request(method, url, body=None, headers=None):
    """One request on the kept-alive connection; returns (status, headers, parsed JSON or text)."""
    parts = urllib.parse.urlsplit(urllib.parse.urljoin(discover, url))
    path = parts.path + ("?" + parts.query if parts.query else "")
    all_headers = {"Accept": "application/json"}
    if token:
        all_headers["Authorization"] = "Bearer " + token
    all_headers.update(headers or {})
    connection.request(method, path, body=body, headers=all_headers)
    response = connection.getresponse()
    data = response.read()
    kind = response.getheader("Content-Type", "")
    return response.status, response, json.loads(data) if "json" in kind and data else data


_, _, root = request("GET", discover)
status, response, _ = request("GET", root["_links"]["user"]["href"])
challenge = ",".join(response.headers.get_all("WWW-Authenticate") or [])
token_url = re.search(r'MsRtcOAuth href="?([^",]+)', challenge).group(1)
form = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": password})
_, _, grant = request("POST", token_url, form, {"Content-Type": "application/x-www-form-urlencoded"})
token = grant["access_token"]
_, _, user = request("GET", root["_links"]["user"]["href"])
body = json.dumps({"UserAgent": "naive/1.0", "EndpointId": "naive-client", "Culture": "en-US"})
_, _, application = request("POST", user["_links"]["applications"]["href"], body, {"Content-Type": "application/json"})
events_url = application["_links"]["events"]["href"]

out = sys.stdout
while True:
    status, _, batch = request("GET", events_url)
    if status != 200:
        sys.exit(f"events: HTTP {status}")
    for sender in batch.get("sender", []):
        for event in sender.get("events", []):
            link = event.get("link", {})
            if link.get("rel") != "participantInvitation":
                continue
            _, _, invitation = request("GET", link["href"])
            out.write(json.dumps({
                "event_type": event.get("type"), "invitation_href": link["href"],
                "state": invitation.get("state"), "subject": invitation.get("subject"),
                "status": event.get("status"), "reason_code": event.get("reason", {}).get("code"),
            }) + "\n")
    out.flush()
    links = batch["_links"]
    events_url = (links.get("next") or links.get("resume") or links.get("resync"))["href"]
