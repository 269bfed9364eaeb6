{
  description = "dbprov: static validator and provisioning planner for databases declared in NixOS flakes";

  # nixpkgs only. dbprov's dependencies need Rust >= 1.88 (rnix 0.15, icu);
  # nixos-unstable has it. Consumers usually set
  # `inputs.dbprov.inputs.nixpkgs.follows = "nixpkgs";`.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { nixpkgs, ... }:
    let
      inherit (nixpkgs) lib;

      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      cargoToml = builtins.fromTOML (builtins.readFile ./Cargo.toml);

      # The crate's sources: everything but build output and the files that only
      # concern Nix or CI, so that editing them does not rebuild the package.
      # (`rules/` must stay: the rule documents are compiled in with include_str!.)
      excluded = map (name: toString ./. + "/${name}") [
        "target"
        "result"
        ".ci"
        "flake.nix"
        "flake.lock"
      ];
      src = lib.cleanSourceWith {
        name = "dbprov-source";
        src = lib.cleanSource ./.;
        filter = path: _type: !(builtins.elem (toString path) excluded);
      };

      # dbprov built with a given package set, so that `lib.mkCheck` and the
      # overlay use the caller's nixpkgs rather than this flake's.
      dbprovFor =
        pkgs:
        pkgs.rustPlatform.buildRustPackage {
          pname = "dbprov";
          version = cargoToml.package.version;
          inherit src;
          cargoLock.lockFile = ./Cargo.lock;

          # The test suite does not run in the build: tests/differential.rs and
          # tests/flake.rs need `nix-instantiate` (Nix inside the build sandbox,
          # which has none), and flake.nix is filtered out of `src`. CI runs
          # `cargo test` outside Nix instead (.ci/run, with Debian's nix-bin).
          doCheck = false;

          meta = {
            inherit (cargoToml.package) description;
            license = lib.licenses.mit;
            mainProgram = "dbprov";
          };
        };

      # A derivation that runs `dbprov check` on `src` and fails the build, with
      # dbprov's diagnostics in the build log, when the check fails (exit 1:
      # errors found, or warnings with --deny-warnings; exit 2: dbprov could
      # not run). In a user's flake:
      #
      #   checks.${system}.dbprov = dbprov.lib.mkCheck {
      #     pkgs = nixpkgs.legacyPackages.${system};
      #     src = ./.;
      #   };
      mkCheck =
        {
          pkgs,
          src,
          args ? [ ],
        }:
        pkgs.runCommand "dbprov-check" { nativeBuildInputs = [ (dbprovFor pkgs) ]; } ''
          set -euo pipefail
          # A build starts from nothing: a cache would only be written.
          dbprov check --no-color --no-cache --root ${lib.escapeShellArg "${src}"} ${lib.escapeShellArgs args}
          touch "$out"
        '';
    in
    {
      packages = forAllSystems (pkgs: rec {
        dbprov = dbprovFor pkgs;
        default = dbprov;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${dbprovFor pkgs}/bin/dbprov";
        };
      });

      lib = {
        inherit mkCheck;
        # The collector for another service path: mkCollectorModule { servicePath = [ … ]; }.
        mkCollectorModule = import ./nix/collector.nix;
        inherit (import ./nix/lib.nix { inherit lib; }) databaseType;
      };

      checks = forAllSystems (pkgs: {
        dbprov = dbprovFor pkgs;
        # The repository's own sample tree must pass.
        seed = mkCheck {
          inherit pkgs;
          src = lib.cleanSource ./fixtures/seed;
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            pkgs.cargo
            pkgs.rustc
            pkgs.clippy
            pkgs.rustfmt
            pkgs.rust-analyzer
            # nix-instantiate, for tests/differential.rs and tests/flake.rs.
            pkgs.nix
          ];
          RUST_SRC_PATH = "${pkgs.rustPlatform.rustLibSrc}";
        };
      });

      overlays.default = final: _prev: {
        dbprov = dbprovFor final;
      };

      # The collector: provisions PostgreSQL from the services' declarations.
      nixosModules.default = import ./nix/module.nix;
    };
}
