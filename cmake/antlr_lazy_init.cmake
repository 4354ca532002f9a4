# cmake -DFILE=<generated .cpp> -DCLASS=<recognizer> -DBASE=<base class> -P antlr_lazy_init.cmake
#
# ANTLR 4.9's C++ target deserializes the grammar's ATN in a static
# initializer (`Class::Initializer Class::_init;`), so every strata process
# paid for it at start — ~5 % of a no-op rebuild answered from its build
# summary, which never parses (docs/performance.md). This moves that work
# into a function-local static in the recognizer's constructor: done once,
# thread-safe, on the first Dockerfile parsed.
file(READ ${FILE} text)
set(def "${CLASS}::Initializer ${CLASS}::_init;")
set(ctor "${CLASS}::${CLASS}(")
string(FIND "${text}" "${def}" at_def)
string(FIND "${text}" "${ctor}" at_ctor)
if(at_def EQUAL -1 OR at_ctor EQUAL -1)
  message(FATAL_ERROR "antlr_lazy_init: ${FILE} does not look like ANTLR 4.9 output for ${CLASS}")
endif()
string(REPLACE "${def}" "// ${CLASS}::_init: made on first use, see the constructor" text "${text}")
# The constructor's opening line ends with "{"; the static goes right after it.
string(SUBSTRING "${text}" ${at_ctor} -1 tail)
string(FIND "${tail}" "{" brace)
math(EXPR cut "${at_ctor} + ${brace} + 1")
string(SUBSTRING "${text}" 0 ${cut} head)
string(SUBSTRING "${text}" ${cut} -1 rest)
file(WRITE ${FILE} "${head}\n  static Initializer init_once;  // strata: antlr_lazy_init.cmake\n  (void)init_once;${rest}")
