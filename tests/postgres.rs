//! The provisioning SQL applied to a real PostgreSQL: a throwaway cluster
//! (initdb in a temporary directory, Unix socket only, as the `postgres` user
//! when the test runs as root). The script must apply twice without error or
//! change, and each service's role must use its own database and be refused
//! every other one.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Debian's PostgreSQL binaries (initdb, pg_ctl are not on PATH there).
fn pg_bin(tool: &str) -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin").join(tool))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    if let Some(p) = candidates.pop() {
        return p;
    }
    let on_path = Command::new("which")
        .arg(tool)
        .output()
        .ok()
        .filter(|o| o.status.success());
    match on_path {
        Some(o) => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        None => panic!("PostgreSQL's {tool} is not installed: apt-get install -y postgresql"),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root.
fn run_pg(tool: &Path, args: &[&str]) -> Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(tool);
        c
    } else {
        Command::new(tool)
    };
    cmd.args(args)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()))
}

/// A cluster that lives as long as the test.
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    fn start(name: &str) -> Cluster {
        if std::env::var_os("DBPROV_SKIP_POSTGRES").is_some() {
            panic!("DBPROV_SKIP_POSTGRES is set");
        }
        let dir = std::env::temp_dir().join(format!("dbprov-pg-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("cluster dir");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(ok.success());
        }
        let data = dir.join("data");
        let init = run_pg(
            &pg_bin("initdb"),
            &[
                "-D",
                data.to_str().expect("utf-8"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        );
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let opts = format!("-c listen_addresses='' -k {}", dir.display());
        let log = dir.join("log");
        let start = run_pg(
            &pg_bin("pg_ctl"),
            &[
                "-D",
                data.to_str().expect("utf-8"),
                "-o",
                &opts,
                "-l",
                log.to_str().expect("utf-8"),
                "-w",
                "start",
            ],
        );
        assert!(
            start.status.success(),
            "pg_ctl start: {}{}",
            String::from_utf8_lossy(&start.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Cluster { dir }
    }

    /// psql as `user` on `db`; `Ok(stdout)` or `Err(stderr)`.
    fn psql(&self, user: &str, db: &str, args: &[&str]) -> Result<String, String> {
        let host = self.dir.to_str().expect("utf-8");
        let mut all = vec![
            "-h",
            host,
            "-U",
            user,
            "-d",
            db,
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-At",
        ];
        all.extend_from_slice(args);
        let out = run_pg(&pg_bin("psql"), &all);
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Roles, databases, owners and access lists: what provisioning may change.
    fn state(&self) -> String {
        self.psql(
            "postgres",
            "postgres",
            &[
                "-c",
                "SELECT rolname, rolcanlogin, rolsuper FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY 1",
                "-c",
                "SELECT datname, pg_get_userbyid(datdba), datacl::text FROM pg_database ORDER BY 1",
            ],
        )
        .expect("state query")
    }

    fn apply(&self, script: &str) {
        let file = self.dir.join("plan.sql");
        std::fs::write(&file, script).expect("write plan");
        if is_root() {
            let _ = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&file)
                .status();
        }
        if let Err(e) = self.psql(
            "postgres",
            "postgres",
            &["-f", file.to_str().expect("utf-8")],
        ) {
            panic!("applying the plan failed:\n{e}\n--- plan ---\n{script}");
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.join("data");
        let _ = run_pg(
            &pg_bin("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap_or(""),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn dbprov(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dbprov"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("dbprov runs");
    assert!(
        out.status.success(),
        "dbprov {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// (database, owner) pairs the plan provisions.
fn provisions(script: &str) -> Vec<(String, String)> {
    script
        .lines()
        .filter_map(|l| l.strip_prefix("ALTER DATABASE "))
        .map(|l| {
            let (db, owner) = l
                .trim_end_matches(';')
                .split_once(" OWNER TO ")
                .expect("ALTER line");
            let unquote = |s: &str| s.trim_matches('"').replace("\"\"", "\"");
            (unquote(db), unquote(owner))
        })
        .collect()
}

fn exercise(cluster: &Cluster, script: &str, expected: &[(&str, &str)]) {
    cluster.apply(script);
    let after_first = cluster.state();
    cluster.apply(script);
    assert_eq!(
        after_first,
        cluster.state(),
        "the second application changed something"
    );
    let planned = provisions(script);
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(d, o)| (d.to_string(), o.to_string()))
        .collect();
    assert_eq!(
        planned, expected,
        "the plan provisions what the report says"
    );
    for (db, owner) in &planned {
        let actual = cluster
            .psql(
                "postgres",
                "postgres",
                &[
                    "-c",
                    &format!(
                        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '{}'",
                        db.replace('\'', "''")
                    ),
                ],
            )
            .expect("owner query");
        assert_eq!(actual.trim(), owner, "owner of {db}");
        // The owner works in its own database.
        let work = "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'); \
                    SELECT v FROM t; UPDATE t SET v = 'b' WHERE id = 1; DELETE FROM t WHERE id = 1; DROP TABLE t;";
        cluster
            .psql(owner, db, &["-c", work])
            .unwrap_or_else(|e| panic!("{owner} cannot work in {db}: {e}"));
        // And is refused every other service's database.
        for (other, other_owner) in &planned {
            if other_owner == owner {
                continue;
            }
            let refused = cluster.psql(owner, other, &["-c", "SELECT 1"]);
            match refused {
                Err(e) => assert!(e.contains("permission denied"), "{owner} on {other}: {e}"),
                Ok(_) => panic!("role {owner} could connect to {other}"),
            }
        }
    }
}

#[test]
fn contract_plan_provisions_isolated_databases() {
    let cluster = Cluster::start("contract");
    let script = dbprov(&[
        "plan",
        "--format",
        "sql",
        "--root",
        "fixtures/eval-helpers-and-lib",
    ]);
    // Three services; vaultwarden's role is not named like its database.
    exercise(
        &cluster,
        &script,
        &[
            ("immich", "immich"),
            ("mini_flux", "mini_flux"),
            ("vault_warden", "vault_warden1"),
        ],
    );
}

#[test]
fn ensure_plan_with_names_that_need_quoting() {
    let cluster = Cluster::start("ensure");
    let script = dbprov(&[
        "plan",
        "--format",
        "sql",
        "--host",
        "db",
        "--root",
        "fixtures/ensure-hyphenated-names",
    ]);
    exercise(
        &cluster,
        &script,
        &[
            ("matrix-synapse", "matrix-synapse"),
            ("hedgedoc", "hedgedoc"),
            ("keycloak", "keycloak"),
        ],
    );
}
