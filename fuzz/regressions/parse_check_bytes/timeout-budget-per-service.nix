let
  # 2^60 calls: each use runs until the step budget (2,000,000) is spent.
  f = n: if n == 0 then true else (f (n - 1)) && (f (n - 1));
in
{
  qgroget.server.s0.enable = f 60;
  qgroget.server.s1.enable = f 60;
  qgroget.server.s2.enable = f 60;
  qgroget.server.s3.enable = f 60;
  qgroget.server.s4.enable = f 60;
  qgroget.server.s5.enable = f 60;
  qgroget.server.s6.enable = f 60;
  qgroget.server.s7.enable = f 60;
  qgroget.server.s8.enable = f 60;
  qgroget.server.s9.enable = f 60;
  qgroget.server.s10.enable = f 60;
  qgroget.server.s11.enable = f 60;
  qgroget.server.s12.enable = f 60;
  qgroget.server.s13.enable = f 60;
  qgroget.server.s14.enable = f 60;
  qgroget.server.s15.enable = f 60;
  qgroget.server.s16.enable = f 60;
  qgroget.server.s17.enable = f 60;
  qgroget.server.s18.enable = f 60;
  qgroget.server.s19.enable = f 60;
  qgroget.server.s20.enable = f 60;
  qgroget.server.s21.enable = f 60;
  qgroget.server.s22.enable = f 60;
  qgroget.server.s23.enable = f 60;
  qgroget.server.s24.enable = f 60;
  qgroget.server.s25.enable = f 60;
  qgroget.server.s26.enable = f 60;
  qgroget.server.s27.enable = f 60;
  qgroget.server.s28.enable = f 60;
  qgroget.server.s29.enable = f 60;
  qgroget.server.s30.enable = f 60;
  qgroget.server.s31.enable = f 60;
  qgroget.server.s32.enable = f 60;
  qgroget.server.s33.enable = f 60;
  qgroget.server.s34.enable = f 60;
  qgroget.server.s35.enable = f 60;
  qgroget.server.s36.enable = f 60;
  qgroget.server.s37.enable = f 60;
  qgroget.server.s38.enable = f 60;
  qgroget.server.s39.enable = f 60;
  qgroget.server.s40.enable = f 60;
  qgroget.server.s41.enable = f 60;
  qgroget.server.s42.enable = f 60;
  qgroget.server.s43.enable = f 60;
  qgroget.server.s44.enable = f 60;
  qgroget.server.s45.enable = f 60;
  qgroget.server.s46.enable = f 60;
  qgroget.server.s47.enable = f 60;
  qgroget.server.s48.enable = f 60;
  qgroget.server.s49.enable = f 60;
}
