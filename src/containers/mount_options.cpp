#include "containers/mount_options.hpp"

#include "base/go/units.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/go/path.hpp"
#include "base/go/strconv.hpp"
#include "containers/volume_store.hpp"

namespace strata::containers {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void usage(std::string message) {
    throw Error(ErrorKind::kUsage, std::move(message));
}

std::vector<std::string> split(std::string_view s, char sep, size_t max_parts = 0) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        if (max_parts && out.size() + 1 == max_parts) {
            out.emplace_back(s.substr(start));
            break;
        }
        const size_t at = s.find(sep, start);
        out.emplace_back(
            s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
        if (at == std::string_view::npos) break;
        start = at + 1;
    }
    return out;
}

// The words of the mode part of -v, as the daemon's Linux parser groups them.
enum class ModeWord { kRw, kLabel, kPropagation, kCopy, kConsistency, kInvalid };

ModeWord mode_word(std::string_view w) {
    static const std::set<std::string_view> rw{"rw", "ro", "ro-non-recursive", "ro-force-recursive",
                                               "rro"};
    static const std::set<std::string_view> propagation{"private", "rprivate", "slave",
                                                        "rslave",  "shared",   "rshared"};
    static const std::set<std::string_view> consistency{"consistent", "cached", "delegated"};
    if (rw.count(w)) return ModeWord::kRw;
    if (w == "z" || w == "Z") return ModeWord::kLabel;
    if (propagation.count(w)) return ModeWord::kPropagation;
    if (w == "nocopy") return ModeWord::kCopy;
    if (consistency.count(w)) return ModeWord::kConsistency;
    return ModeWord::kInvalid;
}

// Docker's linuxValidMountMode: known words, at most one of each kind.
bool valid_mode(std::string_view mode) {
    if (mode.empty()) return true;
    std::map<ModeWord, int> count;
    for (const auto& w : split(mode, ',')) {
        const ModeWord k = mode_word(w);
        if (k == ModeWord::kInvalid) return false;
        if (++count[k] > 1) return false;
    }
    return true;
}

bool mode_has(std::string_view mode, ModeWord kind) {
    for (const auto& w : split(mode, ','))
        if (mode_word(w) == kind) return true;
    return false;
}

bool mode_read_only(std::string_view mode) {
    for (const auto& w : split(mode, ','))
        if (mode_word(w) == ModeWord::kRw && w != "rw") return true;
    return false;
}

std::string mount_config_error(std::string_view type, std::string_view what) {
    return fmt::format("invalid mount config for type \"{}\": {}", type, what);
}

// Why `target` cannot be a mount target ("" if it can): Docker's
// linuxValidateNotRoot and linuxValidateAbsolute, in that order.
std::string target_problem(std::string_view target) {
    if (target.empty()) return "field Target must not be empty";
    if (target[0] == '/' && go::path::clean(target) == "/")
        return "invalid specification: destination can't be '/'";
    if (target[0] != '/')
        return fmt::format("invalid mount path: '{}' mount path must be absolute", target);
    return "";
}

// The checks of the daemon's validateMountConfig that the parsed fields need.
// `has_volume_options` / `has_bind_options`: the flag set options of that kind.
void validate(const MountSpec& m, bool has_volume_options, bool has_bind_options,
              bool check_bind_source, const std::string& wrap) {
    auto fail = [&](std::string_view what) {
        std::string msg = mount_config_error(mount_type_name(m.type), what);
        usage(wrap.empty() ? msg : wrap + ": " + msg);
    };
    if (auto p = target_problem(m.target); !p.empty()) fail(p);
    switch (m.type) {
        case MountSpec::Type::kBind:
            if (m.source.empty()) fail("field Source must not be empty");
            if (has_volume_options) fail("field VolumeOptions must not be specified");
            if (m.source[0] != '/')
                fail(fmt::format("invalid mount path: '{}' mount path must be absolute", m.source));
            if (check_bind_source) {
                struct stat st {};
                if (::stat(m.source.c_str(), &st) != 0) {
                    if (errno == ENOENT) fail("bind source path does not exist: " + m.source);
                    fail(fmt::format("stat {}: {}", m.source, std::strerror(errno)));
                }
            }
            break;
        case MountSpec::Type::kVolume:
            if (has_bind_options) fail("field BindOptions must not be specified");
            if (m.read_only && m.source.empty())
                fail("must not set ReadOnly mode when using anonymous volumes");
            // The local driver's check, which Docker makes when it creates
            // the volume (its message is not wrapped).
            if (!m.source.empty()) check_volume_name(m.source);
            break;
        case MountSpec::Type::kTmpfs:
            if (has_bind_options) fail("field BindOptions must not be specified");
            if (!m.source.empty()) fail("field Source must not be specified");
            break;
    }
}

// docker/cli makes a source starting with "." absolute (-v ./data:/x,
// --mount src=.).
std::string absolute_from_cwd(const std::string& source) {
    std::error_code ec;
    fs::path abs = fs::absolute(source, ec);
    if (ec) return source;
    return go::path::clean(abs.string());
}

std::optional<uint32_t> parse_octal_mode(std::string_view v) {
    if (v.empty() || v.size() > 11) return std::nullopt;
    uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '7') return std::nullopt;
        n = n * 8 + static_cast<uint64_t>(c - '0');
    }
    if (n > 07777) return std::nullopt;
    return static_cast<uint32_t>(n);
}

// encoding/csv's reading of one record: fields split on ',', a field that
// starts with '"' runs to its closing quote ("" inside is one quote).
std::vector<std::string> csv_fields(std::string_view line) {
    std::vector<std::string> out;
    size_t i = 0;
    while (true) {
        std::string field;
        if (i < line.size() && line[i] == '"') {
            ++i;
            while (true) {
                if (i >= line.size())
                    usage(
                        fmt::format("parse error on line 1, column {}: "
                                    "extraneous or missing \" in quoted-field",
                                    line.size() + 1));
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field += line[i++];
            }
            if (i < line.size() && line[i] != ',')
                usage(
                    fmt::format("parse error on line 1, column {}: extraneous or missing \" in "
                                "quoted-field",
                                i + 1));
        } else {
            const size_t at = line.find(',', i);
            field = std::string(
                line.substr(i, at == std::string_view::npos ? std::string_view::npos : at - i));
            i = at == std::string_view::npos ? line.size() : at;
        }
        out.push_back(std::move(field));
        if (i >= line.size()) break;
        ++i;  // the ','
        if (i == line.size()) {
            out.emplace_back();
            break;
        }
    }
    return out;
}

size_t depth(const std::string& target) {
    return static_cast<size_t>(std::count(target.begin(), target.end(), '/'));
}

}  // namespace

MountSpec parse_volume_flag(std::string_view raw) {
    const std::string spec(raw);
    auto invalid_spec = [&] { return fmt::format("invalid volume specification: '{}'", spec); };
    const auto arr = split(raw, ':', 4);
    if (arr[0].empty()) usage(invalid_spec());
    MountSpec m;
    std::string mode;
    switch (arr.size()) {
        case 1:
            m.target = arr[0];
            break;
        case 2:
            // "/ctr:ro" is no volume: a volume cannot have only a mode.
            if (valid_mode(arr[1])) usage(invalid_spec());
            m.source = arr[0];
            m.target = arr[1];
            break;
        case 3:
            m.source = arr[0];
            m.target = arr[1];
            mode = arr[2];
            break;
        default:
            usage(invalid_spec());
    }
    if (!valid_mode(mode)) usage("invalid mode: " + mode);
    if (!m.source.empty() && m.source[0] == '.') m.source = absolute_from_cwd(m.source);
    m.type =
        !m.source.empty() && m.source[0] == '/' ? MountSpec::Type::kBind : MountSpec::Type::kVolume;
    m.read_only = mode_read_only(mode);
    m.no_copy = mode_has(mode, ModeWord::kCopy);
    m.anonymous = m.type == MountSpec::Type::kVolume && m.source.empty();
    validate(m, m.no_copy, mode_has(mode, ModeWord::kPropagation), false, invalid_spec());
    m.target = go::path::clean(m.target);
    if (m.type == MountSpec::Type::kBind) m.source = go::path::clean(m.source);
    return m;
}

MountSpec parse_mount_flag(std::string_view raw) {
    MountSpec m;
    m.type = MountSpec::Type::kVolume;  // docker/cli's default
    std::string type = "volume";
    bool volume_options = false, bind_options = false, tmpfs_options = false;
    for (const std::string& field : csv_fields(raw)) {
        const size_t eq = field.find('=');
        const std::string key = field.substr(0, eq);
        const bool has_value = eq != std::string::npos;
        const std::string val = has_value ? field.substr(eq + 1) : "";
        auto bool_value = [&]() -> bool {
            if (!has_value) return true;
            auto b = go::strconv::parse_bool(val);
            if (!b) usage(fmt::format("invalid value for {}: {}", key, val));
            return *b;
        };
        if (!has_value && key != "readonly" && key != "ro" && key != "volume-nocopy" &&
            key != "bind-nonrecursive")
            usage(fmt::format("invalid field '{}' must be a key=value pair", field));
        if (key == "type") {
            type = val;
            std::transform(type.begin(), type.end(), type.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        } else if (key == "source" || key == "src") {
            m.source = val;
            if (val == "." || val.rfind("./", 0) == 0) m.source = absolute_from_cwd(val);
        } else if (key == "target" || key == "dst" || key == "destination") {
            m.target = val;
        } else if (key == "readonly" || key == "ro") {
            m.read_only = bool_value();
        } else if (key == "consistency") {
            // Docker Desktop's file sharing hint; nothing to do on Linux.
        } else if (key == "bind-propagation") {
            static const std::set<std::string> modes{"private", "rprivate", "slave",
                                                     "rslave",  "shared",   "rshared"};
            bind_options = true;
            if (!modes.count(val))
                usage(mount_config_error(type, "invalid propagation mode: " + val));
        } else if (key == "bind-nonrecursive") {
            bind_options = true;
            bool_value();
        } else if (key == "volume-nocopy") {
            volume_options = true;
            m.no_copy = bool_value();
        } else if (key == "volume-driver") {
            volume_options = true;
            if (val != "local")
                usage(fmt::format("volume-driver={}: strata has only the \"local\" volume driver",
                                  val));
        } else if (key == "volume-label" || key == "volume-opt" || key == "volume-subpath") {
            usage(
                fmt::format("{}: not supported by strata; create the volume first with `strata "
                            "volume create`",
                            key));
        } else if (key == "tmpfs-size") {
            tmpfs_options = true;
            auto bytes = go::units::ram_in_bytes(val);
            if (!bytes) usage(fmt::format("invalid value for {}: {}", key, val));
            if (*bytes) m.tmpfs_size = *bytes;
        } else if (key == "tmpfs-mode") {
            tmpfs_options = true;
            auto mode = parse_octal_mode(val);
            if (!mode) usage(fmt::format("invalid value for {}: {}", key, val));
            m.tmpfs_mode = *mode;
        } else {
            usage(fmt::format("unexpected key '{}' in '{}'", key, field));
        }
    }
    if (type.empty()) usage("type is required");
    if (m.target.empty()) usage("target is required");
    if (type == "bind") {
        m.type = MountSpec::Type::kBind;
    } else if (type == "volume") {
        m.type = MountSpec::Type::kVolume;
    } else if (type == "tmpfs") {
        m.type = MountSpec::Type::kTmpfs;
    } else {
        usage(mount_config_error(type, "mount type unknown"));
    }
    if (volume_options && m.type != MountSpec::Type::kVolume)
        usage(fmt::format("cannot mix 'volume-*' options with mount type '{}'", type));
    if (bind_options && m.type != MountSpec::Type::kBind)
        usage(fmt::format("cannot mix 'bind-*' options with mount type '{}'", type));
    if (tmpfs_options && m.type != MountSpec::Type::kTmpfs)
        usage(fmt::format("cannot mix 'tmpfs-*' options with mount type '{}'", type));
    validate(m, volume_options, bind_options, true, "");
    m.anonymous = m.type == MountSpec::Type::kVolume && m.source.empty();
    m.target = go::path::clean(m.target);
    if (m.type == MountSpec::Type::kBind) m.source = go::path::clean(m.source);
    return m;
}

MountSpec parse_tmpfs_flag(std::string_view raw) {
    MountSpec m;
    m.type = MountSpec::Type::kTmpfs;
    const size_t colon = raw.find(':');
    m.target = std::string(raw.substr(0, colon));
    if (auto p = target_problem(m.target); !p.empty()) usage(p);
    if (colon != std::string_view::npos) {
        for (const std::string& opt : split(raw.substr(colon + 1), ',')) {
            const size_t eq = opt.find('=');
            const std::string key = opt.substr(0, eq);
            const std::string val = eq == std::string::npos ? "" : opt.substr(eq + 1);
            if (key == "size" && eq != std::string::npos) {
                auto bytes = go::units::ram_in_bytes(val);
                if (!bytes)
                    usage(fmt::format("invalid tmpfs size {} for {}", go::strconv::quote(val),
                                      m.target));
                if (*bytes) m.tmpfs_size = *bytes;
            } else if (key == "mode" && eq != std::string::npos) {
                auto mode = parse_octal_mode(val);
                if (!mode)
                    usage(fmt::format("invalid tmpfs mode {} for {}", go::strconv::quote(val),
                                      m.target));
                m.tmpfs_mode = *mode;
            } else if (eq == std::string::npos &&
                       (opt == "rw" || opt == "exec" || opt == "noexec" || opt == "suid" ||
                        opt == "nosuid" || opt == "dev" || opt == "nodev")) {
                // Mount flags Docker accepts here; strata's tmpfs is always
                // nosuid,nodev and writable.
            } else if (opt == "ro") {
                m.read_only = true;
            } else {
                usage(fmt::format("invalid tmpfs option [{}]", go::strconv::quote(opt)));
            }
        }
    }
    m.target = go::path::clean(m.target);
    return m;
}

VolumesFrom parse_volumes_from(std::string_view raw) {
    if (raw.empty()) usage("volumes-from specification cannot be an empty string");
    VolumesFrom v;
    const size_t colon = raw.find(':');
    v.container = std::string(raw.substr(0, colon));
    if (colon == std::string_view::npos) return v;
    const std::string mode(raw.substr(colon + 1));
    if (mode.empty()) return v;
    // No propagation or copy modes: the volumes keep the other container's.
    if (!valid_mode(mode) || mode_has(mode, ModeWord::kPropagation) ||
        mode_has(mode, ModeWord::kCopy))
        usage("invalid mode: " + mode);
    v.read_only = mode_read_only(mode);
    return v;
}

std::vector<MountSpec> resolve_mounts(const MountFlags& flags,
                                      const std::set<std::string>& image_volumes,
                                      const ContainerStore* containers) {
    std::vector<MountSpec> out;
    auto at_target = [&](const std::string& target) {
        return std::find_if(out.begin(), out.end(),
                            [&](const MountSpec& m) { return m.target == target; });
    };
    // 1. --volumes-from: the other container's volumes and binds.
    for (const std::string& raw : flags.volumes_from) {
        const VolumesFrom from = parse_volumes_from(raw);
        if (!containers)
            throw Error(ErrorKind::kInternal, "resolve_mounts: --volumes-from without a store");
        const Container other = containers->get(from.container);
        for (MountSpec m : other.spec.mounts) {
            if (m.type == MountSpec::Type::kTmpfs) continue;
            m.read_only = m.read_only || from.read_only;
            if (auto it = at_target(m.target); it != out.end())
                *it = m;
            else
                out.push_back(m);
        }
    }
    // 2. -v, --mount, --tmpfs: one mount per target among them.
    std::set<std::string> given;
    auto add = [&](MountSpec m) {
        if (!given.insert(m.target).second) usage("Duplicate mount point: " + m.target);
        if (auto it = at_target(m.target); it != out.end())
            *it = std::move(m);
        else
            out.push_back(std::move(m));
    };
    for (const std::string& raw : flags.volumes)
        add(parse_volume_flag(raw));
    for (const std::string& raw : flags.mounts)
        add(parse_mount_flag(raw));
    for (const std::string& raw : flags.tmpfs)
        add(parse_tmpfs_flag(raw));
    // 3. The image's VOLUMEs no mount covers.
    for (const std::string& v : image_volumes) {
        if (v.empty()) continue;
        MountSpec m;
        m.type = MountSpec::Type::kVolume;
        m.target = go::path::clean(v[0] == '/' ? v : "/" + v);
        m.anonymous = true;
        if (m.target == "/" || at_target(m.target) != out.end()) continue;
        out.push_back(std::move(m));
    }
    for (MountSpec& m : out)
        if (m.type == MountSpec::Type::kVolume && m.source.empty()) m.source = random_volume_name();
    std::stable_sort(out.begin(), out.end(), [](const MountSpec& a, const MountSpec& b) {
        return depth(a.target) < depth(b.target);
    });
    return out;
}

}  // namespace strata::containers
