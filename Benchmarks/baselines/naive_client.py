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


class Client:
    """One kept-alive connection to the server, with the token once signed in."""

    def __init__(self, discover):
        self.discover = discover
        origin = urllib.parse.urlsplit(discover)
        self.connection = http.client.HTTPConnection(origin.hostname, origin.port, timeout=300)
        self.token = None

    def request(self, method, url, body=None, headers=None):
        """One request on the kept-alive connection; returns (status, response, parsed JSON or bytes)."""
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(self.discover, url))
        path = parts.path + ("?" + parts.query if parts.query else "")
        all_headers = {"Accept": "application/json"}
        if self.token:
            all_headers["Authorization"] = "Bearer " + self.token
        all_headers.update(headers or {})
        self.connection.request(method, path, body=body, headers=all_headers)
        response = self.connection.getresponse()
        data = response.read()
        kind = response.getheader("Content-Type", "")
        return response.status, response, json.loads(data) if "json" in kind and data else data

    def sign_in(self, username, password, endpoint_id="naive-client"):
        """Discovery, the password grant and an application; returns the first events URL."""
        _, _, root = self.request("GET", self.discover)
        _, response, _ = self.request("GET", root["_links"]["user"]["href"])
        challenge = ",".join(response.headers.get_all("WWW-Authenticate") or [])
        token_url = re.search(r'MsRtcOAuth href="?([^",]+)', challenge).group(1)
        form = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": password})
        _, _, grant = self.request("POST", token_url, form, {"Content-Type": "application/x-www-form-urlencoded"})
        self.token = grant["access_token"]
        _, _, user = self.request("GET", root["_links"]["user"]["href"])
        body = json.dumps({"UserAgent": "naive/1.0", "EndpointId": endpoint_id, "Culture": "en-US"})
        _, _, application = self.request("POST", user["_links"]["applications"]["href"], body, {"Content-Type": "application/json"})
        return application["_links"]["events"]["href"]


def main():
    discover, username, password_file = sys.argv[1:4]
    password = open(password_file, encoding="utf-8").readline().rstrip("\r\n")
    client = Client(discover)
    events_url = client.sign_in(username, password)

    out = sys.stdout
    while True:
        status, _, batch = client.request("GET", events_url)
        if status != 200:
            sys.exit(f"events: HTTP {status}")
        for sender in batch.get("sender", []):
            for event in sender.get("events", []):
                link = event.get("link", {})
                if link.get("rel") != "participantInvitation":
                    continue
                _, _, invitation = client.request("GET", link["href"])
                out.write(json.dumps({
                    "event_type": event.get("type"), "invitation_href": link["href"],
                    "state": invitation.get("state"), "subject": invitation.get("subject"),
                    "status": event.get("status"), "reason_code": event.get("reason", {}).get("code"),
                }) + "\n")
        out.flush()
        links = batch["_links"]
        events_url = (links.get("next") or links.get("resume") or links.get("resync"))["href"]


if __name__ == "__main__":
    main()
