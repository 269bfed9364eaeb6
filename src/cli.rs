//! The command line (SPEC §3).

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::{analyse, Analysis, Override};
use crate::diagnostic::{Diagnostic, Severity};
use crate::render;
use crate::report;
use crate::rules::{self, Rule};
use crate::settings::Settings;

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
    /// Worker threads for parsing (default: one per core).
    #[arg(long, global = true, value_name = "N")]
    threads: Option<usize>,
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
    /// Evaluate a standalone Nix expression strictly and print it as JSON, or
    /// why it is unresolved (for comparing with `nix-instantiate --eval --strict --json`).
    #[command(hide = true)]
    EvalExpr { expr: String },
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
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum CheckFormat {
    Human,
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum PlanFormat {
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum RulesFormat {
    Text,
    Json,
}

/// A failure that stops the run: exit code 2.
pub struct Fatal(pub String);

/// Runs the command line; returns the exit code.
pub fn run(cli: Cli) -> Result<i32, Fatal> {
    if let Some(n) = cli.threads {
        // A second initialisation (tests in one process) is harmless.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
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
                print!("{}", rules::doc(r.code()));
                Ok(0)
            }
            None => Err(Fatal(format!(
                "unknown rule `{rule}`; `dbprov rules` lists them"
            ))),
        },
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
            println!("{out}");
            Ok(0)
        }
        Command::Check(args) => check(&cli, args, color),
        Command::Plan(args) => plan(&cli, args),
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

fn selected_rules(select: &[String], ignore: &[String]) -> Result<Vec<&'static dyn Rule>, Fatal> {
    let matches = |r: &dyn Rule, key: &str| {
        r.code().eq_ignore_ascii_case(key)
            || r.name().eq_ignore_ascii_case(key)
            || (key.len() >= 2
                && r.code()
                    .to_ascii_uppercase()
                    .starts_with(&key.to_ascii_uppercase()))
    };
    for key in select.iter().chain(ignore) {
        if !rules::all().iter().any(|r| matches(*r, key)) {
            return Err(Fatal(format!(
                "unknown rule `{key}`; `dbprov rules` lists them"
            )));
        }
    }
    Ok(rules::all()
        .into_iter()
        .filter(|r| select.is_empty() || select.iter().any(|k| matches(*r, k)))
        .filter(|r| !ignore.iter().any(|k| matches(*r, k)))
        .collect())
}

fn run_analysis(
    cli: &Cli,
    rules: &[&'static dyn Rule],
    stdin: &Option<PathBuf>,
) -> Result<(Analysis, Settings), Fatal> {
    let root = root(cli)?;
    let settings = Settings::default();
    let buffer = stdin_buffer(&root, stdin)?;
    let analysis = analyse(&root, &settings, rules, buffer).map_err(Fatal)?;
    Ok((analysis, settings))
}

fn check(cli: &Cli, args: &CheckArgs, color: bool) -> Result<i32, Fatal> {
    let rules = selected_rules(&args.select, &args.ignore)?;
    let (analysis, settings) = run_analysis(cli, &rules, &args.stdin_filename)?;
    if let Some(path) = &args.report {
        let report = report::build(&analysis, &settings, &analysis.diagnostics);
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
            let _ = writeln!(
                err,
                "{}",
                render::human::summary_line(&shown, analysis.files.len())
            );
        }
        CheckFormat::Json => print!("{}", render::json::render(&shown, &analysis.files)),
    }
    let fails = shown.iter().any(|d| {
        d.severity == Severity::Error || (args.deny_warnings && d.severity == Severity::Warning)
    });
    Ok(i32::from(fails))
}

fn plan(cli: &Cli, args: &PlanArgs) -> Result<i32, Fatal> {
    let rules = rules::all();
    let (analysis, settings) = run_analysis(cli, &rules, &args.stdin_filename)?;
    let report = report::build(&analysis, &settings, &analysis.diagnostics);
    match args.format {
        PlanFormat::Json => {
            let mut s = serde_json::to_string_pretty(&report).map_err(|e| Fatal(e.to_string()))?;
            s.push('\n');
            print!("{s}");
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
            println!(
                "{}",
                serde_json::to_string_pretty(&list).expect("rules serialize")
            );
        }
        RulesFormat::Text => {
            for r in all {
                println!(
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
