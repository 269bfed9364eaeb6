# The NixOS collector module for the default service path, `qgroget.server`:
#
#   imports = [ ./nix/module.nix ];   # or the flake's nixosModules.default
#
# For another service path, use the function it is made with:
#
#   imports = [ ((import ./nix/collector.nix) { servicePath = [ "qgroget" "serviceModules" ]; }) ];
#
# collector.nix documents the design; lib.nix holds the entry type
# (`databaseType`) and the checks.
import ./collector.nix { }
