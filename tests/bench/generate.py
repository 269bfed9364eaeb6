#!/usr/bin/env python3
"""Generates a synthetic flake tree of N services for dbprov's benchmark.

Each service is a realistic module of 50-150 lines (options, a guarded service
configuration with systemd units, firewall, environment); about 40% declare
databases; a central settings file enables about 70% of them in one attribute
set. Usage: generate.py N OUT_DIR [SEED]
"""
import os
import random
import sys


def service_module(rng, name, declares):
    lines = [
        "{ config, lib, pkgs, ... }:",
        "let",
        f"  cfg = config.qgroget.server.{name};",
        f'  port = {rng.randint(2000, 60000)};',
        "in",
        "{",
        f"  options.qgroget.server.{name} = {{",
        f'    enable = lib.mkEnableOption "{name}";',
        "    databases = lib.mkOption {",
        "      type = lib.types.listOf lib.types.attrs;",
        "      default = [ ];",
        "    };",
        "    port = lib.mkOption {",
        "      type = lib.types.port;",
        "      default = port;",
        '      description = "Port the service listens on.";',
        "    };",
        "  };",
        "",
        "  config = lib.mkMerge [",
    ]
    if declares:
        dbs = [f'      {{ type = "postgresql"; name = "{name}"; user = "{name}"; }}']
        if rng.random() < 0.3:
            dbs.append(f'      {{ type = "redis"; name = "{name}_cache"; }}')
        lines += ["    {", f"      qgroget.server.{name}.databases = ["] + dbs + ["      ];", "    }"]
    lines += ["    (lib.mkIf cfg.enable {"]
    lines += [
        f"      systemd.services.{name} = {{",
        f'        description = "{name} service";',
        '        wantedBy = [ "multi-user.target" ];',
        '        after = [ "network.target" ];',
        "        serviceConfig = {",
        f'          ExecStart = "${{pkgs.hello}}/bin/hello --port ${{toString cfg.port}}";',
        "          DynamicUser = true;",
        '          Restart = "on-failure";',
        f'          StateDirectory = "{name}";',
        "          ProtectSystem = \"strict\";",
        "          ProtectHome = true;",
        "          PrivateTmp = true;",
        "          NoNewPrivileges = true;",
        "        };",
        "      };",
        "      networking.firewall.allowedTCPPorts = [ cfg.port ];",
    ]
    for i in range(rng.randint(10, 90)):
        lines.append(f'      environment.etc."{name}/conf.d/{i:03}.conf".text = "key{i} = value{rng.randint(0, 10**6)}";')
    lines += ["    })", "  ];", "}"]
    return "\n".join(lines) + "\n"


def main():
    n = int(sys.argv[1])
    out = sys.argv[2]
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    base = os.path.join(out, "modules", "server")
    os.makedirs(base, exist_ok=True)
    with open(os.path.join(out, "flake.nix"), "w") as f:
        f.write('{ description = "dbprov benchmark tree"; outputs = { self, nixpkgs }: { }; }\n')
    imports = []
    settings = []
    for i in range(n):
        name = f"svc{i:05}"
        group = f"g{i // 100:03}"
        os.makedirs(os.path.join(base, group), exist_ok=True)
        with open(os.path.join(base, group, f"{name}.nix"), "w") as f:
            f.write(service_module(rng, name, rng.random() < 0.4))
        imports.append(f"    ./{group}/{name}.nix")
        if rng.random() < 0.7:
            settings.append(f"    {name}.enable = {'true' if rng.random() < 0.8 else 'false'};")
    with open(os.path.join(base, "default.nix"), "w") as f:
        f.write("{ ... }:\n{\n  imports = [\n    ./settings.nix\n" + "\n".join(imports) + "\n  ];\n}\n")
    with open(os.path.join(base, "settings.nix"), "w") as f:
        f.write("{ lib, ... }:\n{\n  qgroget.server = {\n" + "\n".join(settings) + "\n  };\n}\n")


if __name__ == "__main__":
    main()
