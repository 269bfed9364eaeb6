use super::{Context, Rule};
use crate::diagnostic::{Diagnostic, Severity};

/// DB018: a file declares databases but the entry module does not import it.
pub struct UnimportedModule;

/// `to` relative to the directory of `from` (both relative to the root).
fn relative_import(from: &str, to: &str) -> String {
    let from_dir: Vec<&str> =
        from.split('/').collect::<Vec<_>>()[..from.matches('/').count()].to_vec();
    let to_parts: Vec<&str> = to.split('/').collect();
    let common = from_dir
        .iter()
        .zip(&to_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let mut parts: Vec<String> = vec!["..".to_string(); from_dir.len() - common];
    parts.extend(to_parts[common..].iter().map(|s| s.to_string()));
    let p = parts.join("/");
    if p.starts_with("..") {
        p
    } else {
        format!("./{p}")
    }
}

impl Rule for UnimportedModule {
    fn code(&self) -> &'static str {
        "DB018"
    }
    fn name(&self) -> &'static str {
        "unimported-module"
    }
    fn default_severity(&self) -> Severity {
        Severity::Warning
    }
    fn summary(&self) -> &'static str {
        "a file declares databases but is not reachable through `imports` from the entry module (ensure mode: from any host)"
    }
    fn check(&self, cx: &Context, out: &mut Vec<Diagnostic>) {
        // Ensure mode: a file that no host reaches.
        let hosts: Vec<&str> = cx
            .model
            .hosts
            .iter()
            .map(|h| h.name.as_str())
            .filter(|n| !n.contains('/'))
            .collect();
        for u in &cx.model.unreached {
            let path = &cx.model.files[u.file as usize].rel_path;
            let import = relative_import("flake.nix", path);
            let d = self
                .diagnostic(
                    format!(
                        "{path} defines services.postgresql.{} but no host ({}) imports it: NixOS never sees it",
                        u.option,
                        hosts.join(", ")
                    ),
                    u.span,
                    "not part of any host's configuration",
                )
                .with_field(&u.option)
                .with_help(format!(
                    "Add it to the module list of the host that should run it, in flake.nix:\n\n  modules = [\n    {import}\n  ];\n\nor import it from a module that host already uses."
                ));
            out.push(d);
        }
        let Some(entry) = &cx.model.entry else { return };
        for u in &cx.model.unimported {
            let path = &cx.model.files[u.file as usize].rel_path;
            for (service, span) in &u.services {
                let import = relative_import(entry, path);
                let d = self
                    .diagnostic(
                        format!(
                            "{path} declares databases for service '{service}' but is not imported from {entry}: NixOS never sees them"
                        ),
                        *span,
                        "not part of the configuration",
                    )
                    .with_service(service)
                    .with_field("databases")
                    .with_help(format!("Import it from {entry}:\n\n  imports = [\n    {import}\n  ];"));
                out.push(d);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::relative_import;

    #[test]
    fn imports_are_relative_to_the_entry() {
        assert_eq!(
            relative_import("modules/server/default.nix", "modules/server/a/b.nix"),
            "./a/b.nix"
        );
        assert_eq!(
            relative_import("modules/server/default.nix", "modules/x.nix"),
            "../x.nix"
        );
        assert_eq!(relative_import("default.nix", "a.nix"), "./a.nix");
    }
}
