-- LuaRocks package of the Lua 5.4 binding, built against an installed
-- libmovieme found with pkg-config (set PKG_CONFIG_PATH for a staged
-- prefix) and SWIG >= 4. From a checkout:
--   cd bindings/lua && luarocks --lua-version 5.4 make movieme-scm-1.rockspec
-- (bindings/test_install.sh does this into a temporary tree). libmovieme
-- itself is found by pkg-config in the build command.
rockspec_format = "3.0"
package = "movieme"
version = "scm-1"
source = {
   url = "git+https://github.com/libmovieme/libmovieme",
   dir = "libmovieme/bindings/lua",
}
description = {
   summary = "Movie (or any item) recommendations with ALS: Lua binding of libmovieme",
   detailed = [[
The Lua 5.4 module of libmovieme (C11, OpenBLAS, OpenMP): load MovieLens or
your own ratings, train explicit or implicit ALS, recommend, evaluate, save
models. Errors are tables with code, message, path and line; models and
datasets support :close() and <close>.]],
   homepage = "https://github.com/libmovieme/libmovieme",
   license = "as libmovieme (see its repository)",
}
dependencies = {
   "lua >= 5.4",
}
build = {
   type = "command",
   build_command = [[
set -e
command -v swig >/dev/null || { echo "movieme: swig (>= 4) is needed to build the module" >&2; exit 1; }
pkg-config --exists movieme || { echo "movieme: libmovieme not found by pkg-config (set PKG_CONFIG_PATH to <prefix>/lib/pkgconfig)" >&2; exit 1; }
mkdir -p rock-build
swig -lua -o rock-build/movieme_wrap.c movieme_lua.i
$(CC) $(CFLAGS) -std=c11 -D_POSIX_C_SOURCE=200809L -I$(LUA_INCDIR) -I.. $(pkg-config --cflags movieme) -c rock-build/movieme_wrap.c -o rock-build/movieme_wrap.o
$(CC) $(LIBFLAG) -o rock-build/movieme.so rock-build/movieme_wrap.o $(pkg-config --libs movieme) -lpthread -Wl,-z,nodelete -Wl,-rpath,$(pkg-config --variable=libdir movieme)
]],
   install = {
      lib = { movieme = "rock-build/movieme.so" },
   },
}
