// fmt's out-of-line part, compiled once for every strata target.
//
// Debian ships fmt as headers plus a shared libfmt.so only. strata links its
// libraries statically (cmake/static_deps.cmake), and fmt's header-only mode
// (FMT_HEADER_ONLY) recompiles all of format-inl.h in every translation unit
// that formats anything: ~2.5 s of compile time each at -O2, in ~120 files.
// Instead, the targets use the ordinary declarations of fmt/format.h, and this
// file provides the definitions libfmt would: the non-template functions, by
// including format-inl.h without FMT_HEADER_ONLY, and the function templates
// that format.h declares `extern template` (or only declares) but defines in
// format-inl.h, instantiated for the character types strata uses.
#include <fmt/format-inl.h>

#include <locale>

FMT_BEGIN_NAMESPACE
namespace detail {

template FMT_API locale_ref::locale_ref(const std::locale& loc);
template FMT_API auto locale_ref::get<std::locale>() const -> std::locale;

template FMT_API auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template FMT_API auto thousands_sep_impl<wchar_t>(locale_ref) -> thousands_sep_result<wchar_t>;
template FMT_API auto decimal_point_impl(locale_ref) -> char;
template FMT_API auto decimal_point_impl(locale_ref) -> wchar_t;

template FMT_API void vformat_to(buffer<char>&, string_view,
                                 basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);

}  // namespace detail
FMT_END_NAMESPACE
