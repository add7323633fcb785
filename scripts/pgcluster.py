"""A throw-away PostgreSQL cluster (scripts/pg-cluster.sh) for the queue's
check and benchmark scripts: start, restart, stop, and psql queries."""
import os
import subprocess

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Cluster:
    def __init__(self, folder):
        self.folder = folder
        out = subprocess.run([f"{REPO}/scripts/pg-cluster.sh", "start", folder], check=True, capture_output=True, text=True).stdout
        self.url = [line for line in out.splitlines() if line.startswith("postgres://")][-1]
        self.user = self.url.split("://", 1)[1].split("@", 1)[0]

    def restart(self):
        subprocess.run([f"{REPO}/scripts/pg-cluster.sh", "restart", self.folder], check=True)

    def stop(self):
        subprocess.run([f"{REPO}/scripts/pg-cluster.sh", "stop", self.folder], check=False)

    def query(self, sql):
        """Rows of tab-separated fields, through psql."""
        out = subprocess.run(["psql", f"host={self.folder} user={self.user} dbname=postgres", "-AtX", "-F", "\t", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return [line.split("\t") for line in out.splitlines() if line]
