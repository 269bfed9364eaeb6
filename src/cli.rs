//! The command line (SPEC §3).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::{analyse_cached, Analysis, Override};
use crate::cache::Cache;
use crate::config::{self, Config, RuleConfig};
use crate::diagnostic::{Diagnostic, Severity};
use crate::render;
use crate::report;
use crate::rules::{self, Selection};

#[derive(Parser, Debug)]
#[command(
    name = "dbprov",
    version,
    about = "Static validator and provisioning planner for the databases services declare in a NixOS flake"
)]
pub struct Cli {
    /// The root of the flake (default: nearest ancestor with flake.nix or .git).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Never use colour (also: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    no_color: bool,
    /// Print diagnostics only (no summary line).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// The configuration file (default: dbprov.toml at the root, if any).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Worker threads for parsing (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
    /// Parse every file instead of reading unchanged ones' results from the
    /// cache ($DBPROV_CACHE_DIR, else $XDG_CACHE_HOME/dbprov or ~/.cache/dbprov).
    #[arg(long, global = true)]
    no_cache: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Lint the tree; exit 0 clean, 1 errors found, 2 could not run.
    Check(CheckArgs),
    /// Print the provisioning report.
    Plan(PlanArgs),
    /// List every rule.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Print one rule's documentation (by code or name).
    Explain { rule: String },
    /// Remove dbprov's cache (parse results kept between runs).
    Clean,
    /// Evaluate a standalone Nix expression strictly and print it as JSON, or
    /// why it is unresolved (for comparing with `nix-instantiate --eval --strict --json`).
    #[command(hide = true)]
    EvalExpr { expr: String },
    /// Benchmark reference: parse every `.nix` file under DIR with rnix alone,
    /// in parallel, and print how long it took.
    #[command(hide = true)]
    BenchParse { dir: PathBuf },
}

#[derive(Parser, Debug)]
struct CheckArgs {
    /// Only show diagnostics for these files or directories (the whole tree is still analysed).
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Also write the JSON report to FILE.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Read this file's content from standard input (an unsaved editor buffer).
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
    /// Only run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Skip these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Make warnings fail the exit code too.
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(Parser, Debug)]
struct PlanArgs {
    /// Accepted for symmetry with `check`; the plan always covers the whole tree.
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Json)]
    format: PlanFormat,
    /// Ensure mode: the host whose PostgreSQL the SQL provisions.
    #[arg(long, value_name = "NAME")]
    host: Option<String>,
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum CheckFormat {
    Human,
    Json,
    Short,
    Github,
    Sarif,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PlanFormat {
    Json,
    Sql,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum RulesFormat {
    Text,
    Json,
}

/// Writes to standard output; a closed pipe (`dbprov rules | head`) is not
/// an error worth a panic, so write errors are ignored.
macro_rules! out {
    ($($arg:tt)*) => {{
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

macro_rules! outln {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// A failure that stops the run: exit code 2.
pub struct Fatal(pub String);

/// Runs the command line; returns the exit code.
pub fn run(cli: Cli) -> Result<i32, Fatal> {
    if let Some(n) = cli.threads {
        // A second initialisation (tests in one process) is harmless.
        // More threads than this only cost memory and start-up time.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.clamp(1, 64))
            .build_global();
    }
    let color = !cli.no_color
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stderr().is_terminal();
    match &cli.command {
        Command::Rules { format } => {
            print_rules(*format);
            Ok(0)
        }
        Command::Explain { rule } => match rules::find(rule) {
            Some(r) => {
                out!("{}", rules::doc(r.code()));
                Ok(0)
            }
            None => Err(Fatal(format!(
                "unknown rule `{rule}`; `dbprov rules` lists them"
            ))),
        },
        Command::Clean => {
            let cache = Cache::from_env().ok_or_else(|| {
                Fatal(
                    "no cache directory: neither DBPROV_CACHE_DIR, XDG_CACHE_HOME nor HOME is set"
                        .into(),
                )
            })?;
            let cleaned = cache.clean();
            outln!(
                "removed {} cache file{} ({:.1} MB) from {}",
                cleaned.files,
                if cleaned.files == 1 { "" } else { "s" },
                cleaned.bytes as f64 / 1e6,
                cache.dir().display()
            );
            Ok(0)
        }
        Command::EvalExpr { expr } => {
            use crate::eval::strict::{eval_source, Strict};
            let expr = expr.clone();
            let out = std::thread::Builder::new()
                .stack_size(512 * 1024 * 1024)
                .spawn(move || match eval_source(&expr) {
                    Strict::Value(v) => serde_json::to_string(&v).expect("json"),
                    Strict::Unresolved(u) => format!("unresolved ({}): {}", u.reason, u.detail),
                })
                .map_err(|e| Fatal(e.to_string()))?
                .join()
                .map_err(|_| Fatal("internal error: evaluation panicked".into()))?;
            outln!("{out}");
            Ok(0)
        }
        Command::BenchParse { dir } => {
            use rayon::prelude::*;
            let files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| {
                    e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "nix")
                })
                .map(|e| e.into_path())
                .collect();
            let start = std::time::Instant::now();
            let (bytes, nodes): (usize, usize) = files
                .par_iter()
                .map(|f| {
                    let text = std::fs::read_to_string(f).unwrap_or_default();
                    let parse = rnix::Root::parse(&text);
                    (text.len(), usize::from(parse.syntax().text_range().len()))
                })
                .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
            let elapsed = start.elapsed().as_secs_f64();
            let _ = nodes;
            outln!(
                "rnix parsed {} files ({} bytes) in {:.3} s",
                files.len(),
                bytes,
                elapsed
            );
            Ok(0)
        }
        Command::Check(args) => check(&cli, args, color),
        Command::Plan(args) => plan(&cli, args, color),
    }
}

fn root(cli: &Cli) -> Result<PathBuf, Fatal> {
    let cwd = std::env::current_dir()
        .map_err(|e| Fatal(format!("cannot read the current directory: {e}")))?;
    let root = match &cli.root {
        Some(r) => {
            let r = cwd.join(r);
            if !r.is_dir() {
                return Err(Fatal(format!("root `{}` is not a directory", r.display())));
            }
            r
        }
        None => crate::discover::find_root(&cwd),
    };
    root.canonicalize()
        .map_err(|e| Fatal(format!("cannot resolve root `{}`: {e}", root.display())))
}

/// A path given on the command line, relative to the root.
fn relative(root: &Path, p: &Path) -> String {
    let abs = std::env::current_dir()
        .map(|c| c.join(p))
        .unwrap_or_else(|_| p.to_path_buf());
    let abs = abs.canonicalize().unwrap_or(abs);
    let rel = abs.strip_prefix(root).map(Path::to_path_buf).unwrap_or(abs);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn stdin_buffer(root: &Path, name: &Option<PathBuf>) -> Result<Option<Override>, Fatal> {
    let Some(name) = name else { return Ok(None) };
    let mut content = Vec::new();
    std::io::stdin()
        .read_to_end(&mut content)
        .map_err(|e| Fatal(format!("cannot read standard input: {e}")))?;
    Ok(Some(Override {
        rel_path: relative(root, name),
        content,
    }))
}

/// Checks that every selector names a rule; an unknown one stops the run.
fn validate_selectors(selectors: &[String]) -> Result<(), Fatal> {
    for key in selectors {
        if rules::matching(key).is_empty() {
            let candidates: Vec<&str> = rules::all()
                .iter()
                .flat_map(|r| [r.code(), r.name()])
                .collect();
            let hint = rules::nearest(key, &candidates)
                .map(|h| format!("; did you mean `{h}`?"))
                .unwrap_or_default();
            return Err(Fatal(format!(
                "unknown rule `{key}`{hint} (`dbprov rules` lists them)"
            )));
        }
    }
    Ok(())
}

/// The rules to run: the command line's `--select` replaces the
/// configuration's, `--ignore` adds to it.
fn selection(
    config: &RuleConfig,
    select: &[String],
    ignore: &[String],
) -> Result<Selection, Fatal> {
    validate_selectors(select)?;
    validate_selectors(ignore)?;
    let select: Vec<String> = if select.is_empty() {
        config.select.clone()
    } else {
        select.to_vec()
    };
    let ignore: Vec<String> = config.ignore.iter().chain(ignore).cloned().collect();
    let picks = |keys: &[String]| -> Vec<&'static str> {
        keys.iter()
            .flat_map(|k| rules::matching(k))
            .map(|r| r.code())
            .collect()
    };
    let selected = picks(&select);
    let ignored = picks(&ignore);
    Ok(Selection {
        rules: rules::all()
            .into_iter()
            .filter(|r| select.is_empty() || selected.contains(&r.code()))
            .filter(|r| !ignored.contains(&r.code()))
            .collect(),
        severity: config.severity.clone(),
    })
}

/// The configuration (`--config`, else `dbprov.toml` at the root).
fn configuration(cli: &Cli, root: &Path, color: bool) -> Result<Config, Fatal> {
    config::load(root, cli.config.as_deref()).map_err(|e| Fatal(render::config_error(&e, color)))
}

fn run_analysis(
    cli: &Cli,
    config: &Config,
    selection: Selection,
    stdin: &Option<PathBuf>,
) -> Result<Analysis, Fatal> {
    let root = root(cli)?;
    let buffer = stdin_buffer(&root, stdin)?;
    // Without a cache directory (no HOME) every file is parsed.
    let cache = match cli.no_cache {
        true => None,
        false => Cache::from_env(),
    };
    let analysis = analyse_cached(&root, &config.settings, selection, buffer, cache.as_ref())
        .map_err(Fatal)?;
    if let Some(cache) = cache {
        cache.sweep_if_due(std::time::SystemTime::now());
    }
    Ok(analysis)
}

fn check(cli: &Cli, args: &CheckArgs, color: bool) -> Result<i32, Fatal> {
    let config = configuration(cli, &root(cli)?, color)?;
    let selection = selection(&config.rules, &args.select, &args.ignore)?;
    let analysis = run_analysis(cli, &config, selection, &args.stdin_filename)?;
    let settings = &config.settings;
    if let Some(path) = &args.report {
        let report = report::build(&analysis, settings, &analysis.diagnostics);
        write_json(path, &report)?;
    }
    let paths: Vec<String> = args
        .paths
        .iter()
        .map(|p| relative(&analysis.root, p))
        .collect();
    let shown: Vec<Diagnostic> =
        render::restrict(analysis.diagnostics.clone(), &analysis.files, &paths);
    match args.format {
        CheckFormat::Human => {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(render::human::render(&shown, &analysis.files, color).as_bytes());
            if !cli.quiet {
                let _ = writeln!(
                    err,
                    "{}",
                    render::human::summary_line(&shown, analysis.files.len())
                );
            }
        }
        CheckFormat::Json => out!("{}", render::json::render(&shown, &analysis.files)),
        CheckFormat::Short => out!("{}", render::short::render(&shown, &analysis.files)),
        CheckFormat::Github => out!("{}", render::github::render(&shown, &analysis.files)),
        CheckFormat::Sarif => out!("{}", render::sarif::render(&shown, &analysis.files)),
    }
    let fails = shown.iter().any(|d| {
        d.severity == Severity::Error || (args.deny_warnings && d.severity == Severity::Warning)
    });
    if crate::analysis::LEAVE_TO_EXIT.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(analysis);
    }
    Ok(i32::from(fails))
}

fn plan(cli: &Cli, args: &PlanArgs, color: bool) -> Result<i32, Fatal> {
    let config = configuration(cli, &root(cli)?, color)?;
    let selection = selection(&config.rules, &[], &[])?;
    let analysis = run_analysis(cli, &config, selection, &args.stdin_filename)?;
    let report = report::build(&analysis, &config.settings, &analysis.diagnostics);
    match args.format {
        PlanFormat::Sql => {
            let script = match (&args.host, report.hosts.as_slice()) {
                (Some(name), hosts) => match hosts.iter().find(|h| &h.name == name) {
                    Some(h) => render::sql::host(h),
                    None => {
                        let known: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                        return Err(Fatal(format!(
                            "no host `{name}`; the hosts are: {}",
                            if known.is_empty() {
                                "(none)".to_string()
                            } else {
                                known.join(", ")
                            }
                        )));
                    }
                },
                (None, hosts) if report.services.is_empty() && hosts.len() == 1 => {
                    render::sql::host(&hosts[0])
                }
                (None, hosts) if report.services.is_empty() && hosts.len() > 1 => {
                    let known: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
                    return Err(Fatal(format!(
                        "several hosts; choose one with --host: {}",
                        known.join(", ")
                    )));
                }
                (None, _) => render::sql::contract(&report),
            };
            out!("{script}");
        }
        PlanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report).map_err(|e| Fatal(e.to_string()))?;
            s.push('\n');
            out!("{s}");
        }
    }
    Ok(0)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<(), Fatal> {
    let mut s = serde_json::to_string_pretty(value).map_err(|e| Fatal(e.to_string()))?;
    s.push('\n');
    std::fs::write(path, s).map_err(|e| Fatal(format!("cannot write `{}`: {e}", path.display())))
}

fn print_rules(format: RulesFormat) {
    let all = rules::all();
    match format {
        RulesFormat::Json => {
            let list: Vec<_> = all
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code(),
                        "name": r.name(),
                        "severity": r.default_severity().as_str(),
                        "summary": r.summary(),
                    })
                })
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&list).expect("rules serialize")
            );
        }
        RulesFormat::Text => {
            for r in all {
                outln!(
                    "{}  {:<24} {:<8} {}",
                    r.code(),
                    r.name(),
                    r.default_severity().as_str(),
                    r.summary()
                );
            }
        }
    }
}
