"""The API server's audit policy (audit.k8s.io/v1), written into the data folder at every start.

Nothing is logged above ``Metadata``: a request or response body of a Secret, a token request,
an ExternalSecret or a store (the local fake provider's store holds values) would carry a
value, and so could a Pod's or a ConfigMap's. The first matching rule wins.
"""

from __future__ import annotations

AUDIT_LOG_MAX_MB = 20
AUDIT_LOG_BACKUPS = 5
AUDIT_POLICY: dict = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    # RequestReceived repeats every request before its answer; ResponseStarted is only for long watches.
    "omitStages": ["RequestReceived"],
    "omitManagedFields": True,
    "rules": [
        # Credentials and who may read them: every verb, every user, the platform's own controllers included.
        {
            "level": "Metadata",
            "resources": [
                {"group": "", "resources": ["secrets", "serviceaccounts/token", "serviceaccounts"]},
                {"group": "external-secrets.io"},
                {"group": "generators.external-secrets.io"},
                {"group": "rbac.authorization.k8s.io"},
                {"group": "authentication.k8s.io", "resources": ["tokenreviews"]},
            ],
        },
        # Noise with no credential in it: health probes, discovery, leases, events.
        {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*", "/version", "/openapi/*", "/api", "/apis", "/apis/*"]},
        {
            "level": "None",
            "resources": [
                {"group": "coordination.k8s.io", "resources": ["leases"]},
                {"group": "", "resources": ["events"]},
                {"group": "events.k8s.io"},
            ],
        },
        # Reads of everything else: none (they are frequent and read no credential).
        {"level": "None", "verbs": ["get", "list", "watch"]},
        # Changes to everything else: who changed what, never the body (a Pod or ConfigMap may carry a value).
        {"level": "Metadata"},
    ],
}
