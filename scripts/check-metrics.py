#!/usr/bin/env python3
"""Scrapes a running `quern serve --metrics-listen` and checks what it serves
with the Prometheus project's own parser (prometheus_client.parser).

    scripts/check-metrics.py --url http://127.0.0.1:9464 [--expect-ready 1]
        [--expect 'quern_files_total{kind="text",status="ok"}=20' ...]
        [--expect-histogram-count 'quern_stage_duration_seconds{stage="write"}=30' ...]

Checks every time: the body parses; Content-Type is the 0.0.4 text format;
every family has HELP and a type; names carry the quern_ prefix (or the
standard process_ one); counters end in _total; every histogram's buckets are
cumulative, end with le="+Inf", and +Inf equals _count; /health is 200; an
unknown path is 404; POST is refused. Prints one line per problem and exits 1
if there is any; prints the parsed samples with --dump.
"""
import argparse
import re
import sys
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

SELECTOR = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?=([-+0-9.eEInfa]+)$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def request(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


def parse_selector(text):
    match = SELECTOR.match(text)
    if not match:
        raise SystemExit(f"bad expectation {text!r}: expected name{{label=\"value\",…}}=number")
    name, labels_text, value = match.groups()
    labels = {}
    for label in LABEL.finditer(labels_text or ""):
        labels[label.group(1)] = label.group(2).encode().decode("unicode_escape")
    return name, labels, float(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:9464")
    parser.add_argument("--expect", action="append", default=[], help="a sample's value: name{labels}=number")
    parser.add_argument("--expect-histogram-count", action="append", default=[], help="a histogram's _count: name{labels}=number")
    parser.add_argument("--expect-ready", type=int, choices=[200, 503], help="the status /ready must answer")
    parser.add_argument("--dump", action="store_true", help="print every parsed sample")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    problems = []

    status, headers, body = request(base + "/metrics")
    if status != 200:
        problems.append(f"/metrics answered {status}")
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    if not content_type.startswith("text/plain") or "version=0.0.4" not in content_type:
        problems.append(f"/metrics Content-Type is {content_type!r}, not the 0.0.4 text format")

    families = list(text_string_to_metric_families(body))
    samples = {}
    for family in families:
        if not family.documentation:
            problems.append(f"{family.name} has no HELP")
        if family.type not in ("counter", "gauge", "histogram"):
            problems.append(f"{family.name} has type {family.type}")
        if not (family.name.startswith("quern_") or family.name.startswith("process_")):
            problems.append(f"{family.name} lacks the quern_ prefix")
        if family.type == "counter" and not any(s.name.endswith("_total") for s in family.samples) and family.samples:
            problems.append(f"counter {family.name} does not end in _total")
        for sample in family.samples:
            if args.dump:
                print(sample.name, sample.labels, sample.value)
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        if family.type == "histogram":
            series = {}
            for sample in family.samples:
                key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
                series.setdefault(key, {"buckets": [], "count": None})
                if sample.name.endswith("_bucket"):
                    series[key]["buckets"].append((float(sample.labels["le"]), sample.value))
                elif sample.name.endswith("_count"):
                    series[key]["count"] = sample.value
            for key, entry in series.items():
                buckets = entry["buckets"]
                if not buckets or buckets[-1][0] != float("inf"):
                    problems.append(f"{family.name}{dict(key)} does not end with le=\"+Inf\"")
                    continue
                bounds = [b for b, _ in buckets]
                if bounds != sorted(bounds):
                    problems.append(f"{family.name}{dict(key)} buckets are not in ascending order")
                counts = [c for _, c in buckets]
                if any(later < earlier for earlier, later in zip(counts, counts[1:])):
                    problems.append(f"{family.name}{dict(key)} buckets are not cumulative: {counts}")
                if entry["count"] != counts[-1]:
                    problems.append(f"{family.name}{dict(key)} _count {entry['count']} differs from +Inf {counts[-1]}")

    for text in args.expect:
        name, labels, value = parse_selector(text)
        actual = samples.get((name, tuple(sorted(labels.items()))))
        if actual != value:
            problems.append(f"{text}: got {actual}")
    for text in args.expect_histogram_count:
        name, labels, value = parse_selector(text)
        actual = samples.get((name + "_count", tuple(sorted(labels.items()))))
        if actual != value:
            problems.append(f"{text} (histogram count): got {actual}")

    status, _, _ = request(base + "/health")
    if status != 200:
        problems.append(f"/health answered {status}")
    if args.expect_ready is not None:
        status, _, _ = request(base + "/ready")
        if status != args.expect_ready:
            problems.append(f"/ready answered {status}, expected {args.expect_ready}")
    status, _, _ = request(base + "/no-such-path")
    if status != 404:
        problems.append(f"an unknown path answered {status}, expected 404")
    status, _, _ = request(base + "/metrics", method="POST")
    if status != 405:
        problems.append(f"POST /metrics answered {status}, expected 405")

    for problem in problems:
        print(problem)
    print(f"{len(families)} families, {len(samples)} samples, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
