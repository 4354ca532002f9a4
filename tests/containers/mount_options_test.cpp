// -v, --mount, --tmpfs, --volumes-from and image VOLUMEs into MountSpecs:
// each syntax and each of Docker's errors (moby's volume/mounts linux parser
// and docker/cli's opts/mount.go are the reference).
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "base/error.hpp"
#include "base/temp_dir.hpp"
#include "containers/mount_options.hpp"
#include "containers/volume_store.hpp"

namespace strata::containers {
namespace {

namespace fs = std::filesystem;
using Type = MountSpec::Type;

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
        return e.what();
    }
    return "(no error)";
}

MountSpec spec_of(Type type, std::string source, std::string target, bool read_only = false,
                  bool anonymous = false) {
    MountSpec m;
    m.type = type;
    m.source = std::move(source);
    m.target = std::move(target);
    m.read_only = read_only;
    m.anonymous = anonymous;
    return m;
}

struct VolumeCase {
    std::string raw;
    Type type;
    std::string source, target;
    bool read_only = false, anonymous = false, no_copy = false;
};

TEST(VolumeFlag, EachSyntax) {
    const std::vector<VolumeCase> cases = {
        {"/tmp:/tmp1", Type::kBind, "/tmp", "/tmp1"},
        {"/tmp:/tmp2:ro", Type::kBind, "/tmp", "/tmp2", true},
        {"/tmp:/tmp3:rw", Type::kBind, "/tmp", "/tmp3"},
        {"/tmp//x/../y/:/a/./b/", Type::kBind, "/tmp/y", "/a/b"},
        {"/host:/ctr:ro,z", Type::kBind, "/host", "/ctr", true},
        {"/host:/ctr:Z,rw", Type::kBind, "/host", "/ctr"},
        {"/host:/ctr:rslave,ro,Z", Type::kBind, "/host", "/ctr", true},
        {"/host:/with space", Type::kBind, "/host", "/with space"},
        {"name:/named1", Type::kVolume, "name", "/named1"},
        {"name:/named3:ro", Type::kVolume, "name", "/named3", true},
        {"data.v_1-x:/d:nocopy", Type::kVolume, "data.v_1-x", "/d", false, false, true},
        {"data:/d:ro,nocopy", Type::kVolume, "data", "/d", true, false, true},
        {"/ctr", Type::kVolume, "", "/ctr", false, true},
        {"/ctr/sub/", Type::kVolume, "", "/ctr/sub", false, true},
        {"/rw:/ro", Type::kBind, "/rw", "/ro"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.raw);
        MountSpec m = parse_volume_flag(c.raw);
        EXPECT_EQ(m.type, c.type);
        EXPECT_EQ(m.source, c.source);
        EXPECT_EQ(m.target, c.target);
        EXPECT_EQ(m.read_only, c.read_only);
        EXPECT_EQ(m.anonymous, c.anonymous);
        EXPECT_EQ(m.no_copy, c.no_copy);
    }
}

TEST(VolumeFlag, RelativeSourceStartingWithDotIsABindOfTheAbsolutePath) {
    const fs::path cwd = fs::current_path();
    MountSpec m = parse_volume_flag("./data:/x");
    EXPECT_EQ(m.type, Type::kBind);
    EXPECT_EQ(m.source, (cwd / "data").string());
    EXPECT_EQ(parse_volume_flag(".:/x").source, cwd.string());
    // Without the dot it is a volume name, as in Docker.
    EXPECT_EQ(parse_volume_flag("data:/x").type, Type::kVolume);
}

TEST(VolumeFlag, DockersErrors) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "invalid volume specification: ''"},
        {":", "invalid volume specification: ':'"},
        {"/tmp:", "invalid volume specification: '/tmp:'"},  // "" reads as a valid mode
        {":/test", "invalid volume specification: ':/test'"},
        {"::", "invalid volume specification: '::'"},
        {"/tmp:::", "invalid volume specification: '/tmp:::'"},
        {"/a:/b:ro:extra", "invalid volume specification: '/a:/b:ro:extra'"},
        {"/path:rw", "invalid volume specification: '/path:rw'"},
        {"/path:ro", "invalid volume specification: '/path:ro'"},
        {"path:ro", "invalid volume specification: 'path:ro'"},
        {"/path:shared", "invalid volume specification: '/path:shared'"},
        {"/path:/path:sw", "invalid mode: sw"},
        {"/path:/path:rwz", "invalid mode: rwz"},
        {"/path:/path:ro,rw", "invalid mode: ro,rw"},
        {"/path:/path:ro,rshared,rslave", "invalid mode: ro,rshared,rslave"},
        {"/:path",
         "invalid volume specification: '/:path': invalid mount config for type "
         "\"bind\": invalid mount path: 'path' mount path must be absolute"},
        {"/a:/",
         "invalid volume specification: '/a:/': invalid mount config for type \"bind\": "
         "invalid specification: destination can't be '/'"},
        {"/",
         "invalid volume specification: '/': invalid mount config for type \"volume\": "
         "invalid specification: destination can't be '/'"},
        {"relative",
         "invalid volume specification: 'relative': invalid mount config for type "
         "\"volume\": invalid mount path: 'relative' mount path must be absolute"},
        {"name:/abs:shared",
         "invalid volume specification: 'name:/abs:shared': invalid mount "
         "config for type \"volume\": field BindOptions must not be "
         "specified"},
        {"/host:/ctr:nocopy",
         "invalid volume specification: '/host:/ctr:nocopy': invalid mount "
         "config for type \"bind\": field VolumeOptions must not be "
         "specified"},
        {"a:/x",
         "create a: \"a\" includes invalid characters for a local volume name, only "
         "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
         "directory, use absolute path"},
        {"bad!name:/x", "create bad!name: \"bad!name\" includes invalid characters"},
        {"_x:/x", "create _x: \"_x\" includes invalid characters"},
    };
    for (const auto& [raw, message] : cases) {
        SCOPED_TRACE(raw);
        const std::string flag(raw);  // (clang < 16 cannot capture a structured binding)
        const std::string e = error_of([&] { parse_volume_flag(flag); });
        EXPECT_NE(e.find(message), std::string::npos) << e;
    }
}

TEST(MountFlag, EachSyntax) {
    TempDir host = TempDir::create(fs::temp_directory_path(), "strata-mount-opt-");
    const std::string h = host.path().string();
    MountSpec m = parse_mount_flag("type=bind,source=" + h + ",target=/app,readonly");
    EXPECT_EQ(m.type, Type::kBind);
    EXPECT_EQ(m.source, h);
    EXPECT_EQ(m.target, "/app");
    EXPECT_TRUE(m.read_only);

    m = parse_mount_flag("type=bind,src=" + h + ",dst=/app/,ro=false,bind-propagation=rslave");
    EXPECT_FALSE(m.read_only);
    EXPECT_EQ(m.target, "/app");
    m = parse_mount_flag("type=bind,src=" + h + ",destination=/app,ro=1");
    EXPECT_TRUE(m.read_only);
    m = parse_mount_flag("\"type=bind\",\"src=" + h + "\",target=/app,readonly=true");
    EXPECT_TRUE(m.read_only);

    // Volumes are the default type; no source is an anonymous volume.
    m = parse_mount_flag("src=cache,dst=/cache");
    EXPECT_EQ(m.type, Type::kVolume);
    EXPECT_EQ(m.source, "cache");
    EXPECT_FALSE(m.anonymous);
    m = parse_mount_flag("type=volume,target=/anon,volume-nocopy");
    EXPECT_TRUE(m.anonymous);
    EXPECT_TRUE(m.no_copy);
    EXPECT_EQ(m.source, "");
    m = parse_mount_flag("type=volume,src=v1,target=/v,volume-nocopy=false,volume-driver=local");
    EXPECT_FALSE(m.no_copy);

    m = parse_mount_flag("type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=1770");
    EXPECT_EQ(m.type, Type::kTmpfs);
    EXPECT_EQ(m.tmpfs_size, 64u << 20);
    EXPECT_EQ(m.tmpfs_mode, 01770u);
    m = parse_mount_flag("type=TMPFS,dst=/run");
    EXPECT_EQ(m.type, Type::kTmpfs);
    EXPECT_EQ(m.tmpfs_size, std::nullopt);
    EXPECT_EQ(m.tmpfs_mode, 01777u);
}

TEST(MountFlag, DockersErrors) {
    TempDir host = TempDir::create(fs::temp_directory_path(), "strata-mount-opt-");
    const std::string h = host.path().string();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"type=bind,src=/nonexistent-strata-path,dst=/x",
         "invalid mount config for type \"bind\": bind source path does not exist: "
         "/nonexistent-strata-path"},
        {"type=bind,dst=/x",
         "invalid mount config for type \"bind\": field Source must not be "
         "empty"},
        {"type=bind,src=rel,dst=/x",
         "invalid mount config for type \"bind\": invalid mount "
         "path: 'rel' mount path must be absolute"},
        {"type=bind,src=" + h + ",dst=/",
         "invalid mount config for type \"bind\": invalid "
         "specification: destination can't be '/'"},
        {"type=bind,src=" + h + ",dst=rel",
         "invalid mount config for type \"bind\": invalid "
         "mount path: 'rel' mount path must be absolute"},
        {"type=volume,src=v", "target is required"},
        {"type=,dst=/x", "type is required"},
        {"type=npipe,dst=/x", "invalid mount config for type \"npipe\": mount type unknown"},
        {"type=volume,dst=/x,readonly",
         "invalid mount config for type \"volume\": must not set "
         "ReadOnly mode when using anonymous volumes"},
        {"type=tmpfs,src=x,dst=/x",
         "invalid mount config for type \"tmpfs\": field Source must "
         "not be specified"},
        {"type=volume,dst=/x,bogus", "invalid field 'bogus' must be a key=value pair"},
        {"type=volume,dst=/x,color=red", "unexpected key 'color' in 'color=red'"},
        {"type=volume,dst=/x,readonly=maybe", "invalid value for readonly: maybe"},
        {"type=tmpfs,dst=/x,tmpfs-size=lots", "invalid value for tmpfs-size: lots"},
        {"type=tmpfs,dst=/x,tmpfs-mode=999", "invalid value for tmpfs-mode: 999"},
        {"type=bind,src=" + h + ",dst=/x,volume-nocopy",
         "cannot mix 'volume-*' options with mount type 'bind'"},
        {"type=volume,dst=/x,tmpfs-size=1m",
         "cannot mix 'tmpfs-*' options with mount type "
         "'volume'"},
        {"type=tmpfs,dst=/x,bind-propagation=shared",
         "cannot mix 'bind-*' options with mount "
         "type 'tmpfs'"},
        {"type=volume,src=x!,dst=/x", "create x!: \"x!\" includes invalid characters"},
    };
    for (const auto& [raw, message] : cases) {
        SCOPED_TRACE(raw);
        const std::string flag(raw);  // (clang < 16 cannot capture a structured binding)
        const std::string e = error_of([&] { parse_mount_flag(flag); });
        EXPECT_NE(e.find(message), std::string::npos) << e;
    }
}

TEST(TmpfsFlag, SyntaxAndErrors) {
    MountSpec m = parse_tmpfs_flag("/run");
    EXPECT_EQ(m.type, Type::kTmpfs);
    EXPECT_EQ(m.target, "/run");
    EXPECT_EQ(m.tmpfs_size, std::nullopt);
    EXPECT_EQ(m.tmpfs_mode, 01777u);
    m = parse_tmpfs_flag("/run/x/:rw,noexec,nosuid,size=64m,mode=1770");
    EXPECT_EQ(m.target, "/run/x");
    EXPECT_EQ(m.tmpfs_size, 64u << 20);
    EXPECT_EQ(m.tmpfs_mode, 01770u);
    m = parse_tmpfs_flag("/t:size=65536k");
    EXPECT_EQ(m.tmpfs_size, 64u << 20);

    EXPECT_EQ(error_of([] { parse_tmpfs_flag("/"); }),
              "invalid specification: destination can't be '/'");
    EXPECT_EQ(error_of([] { parse_tmpfs_flag("run"); }),
              "invalid mount path: 'run' mount path must be absolute");
    EXPECT_EQ(error_of([] { parse_tmpfs_flag("/run:uid=x,bogus"); }),
              "invalid tmpfs option [\"uid=x\"]");
    EXPECT_EQ(error_of([] { parse_tmpfs_flag("/run:size=big"); }),
              "invalid tmpfs size \"big\" for /run");
    EXPECT_EQ(error_of([] { parse_tmpfs_flag("/run:mode=9"); }),
              "invalid tmpfs mode \"9\" for /run");
}

TEST(VolumesFromFlag, SyntaxAndErrors) {
    auto v = parse_volumes_from("data");
    EXPECT_EQ(v.container, "data");
    EXPECT_FALSE(v.read_only);
    v = parse_volumes_from("data:ro");
    EXPECT_TRUE(v.read_only);
    v = parse_volumes_from("data:rw");
    EXPECT_FALSE(v.read_only);
    v = parse_volumes_from("data:ro,z");
    EXPECT_TRUE(v.read_only);
    EXPECT_EQ(error_of([] { parse_volumes_from(""); }),
              "volumes-from specification cannot be an empty string");
    EXPECT_EQ(error_of([] { parse_volumes_from("data:bogus"); }), "invalid mode: bogus");
    EXPECT_EQ(error_of([] { parse_volumes_from("data:ro,shared"); }), "invalid mode: ro,shared");
    EXPECT_EQ(error_of([] { parse_volumes_from("data:nocopy"); }), "invalid mode: nocopy");
}

class ResolveMounts : public ::testing::Test {
  protected:
    TempDir tmp = TempDir::create(fs::temp_directory_path(), "strata-resolve-mounts-");
    ContainerStore containers{tmp.path()};

    Container data_container() {
        ContainerSpec s;
        s.image_name = "busybox:latest";
        s.mounts = {
            spec_of(Type::kVolume, "shared", "/data"),
            spec_of(Type::kVolume, std::string(64, 'a'), "/anon", false, true),
            spec_of(Type::kBind, "/srv", "/srv", true),
            spec_of(Type::kTmpfs, "", "/run"),
        };
        return containers.create(s, "store");
    }
};

TEST_F(ResolveMounts, ImageVolumesBecomeAnonymousUnlessCovered) {
    MountFlags flags;
    flags.volumes = {"named:/var/lib/db"};
    flags.tmpfs = {"/cache"};
    auto mounts = resolve_mounts(flags, {"/var/lib/db", "/logs", "/cache/"}, nullptr);
    ASSERT_EQ(mounts.size(), 3u);
    const MountSpec* logs = nullptr;
    for (const auto& m : mounts)
        if (m.target == "/logs") logs = &m;
    ASSERT_NE(logs, nullptr);
    EXPECT_EQ(logs->type, Type::kVolume);
    EXPECT_TRUE(logs->anonymous);
    EXPECT_EQ(logs->source.size(), 64u);
    EXPECT_TRUE(valid_volume_name(logs->source));
    for (const auto& m : mounts) {
        if (m.target == "/var/lib/db") {
            EXPECT_EQ(m.source, "named");
        }
    }
}

TEST_F(ResolveMounts, AnonymousVolumesGetDistinctNames) {
    MountFlags flags;
    flags.volumes = {"/a", "/b"};
    flags.mounts = {"type=volume,dst=/c"};
    auto mounts = resolve_mounts(flags, {}, nullptr);
    ASSERT_EQ(mounts.size(), 3u);
    std::set<std::string> names;
    for (const auto& m : mounts) {
        EXPECT_TRUE(m.anonymous);
        names.insert(m.source);
    }
    EXPECT_EQ(names.size(), 3u);
}

TEST_F(ResolveMounts, DuplicateMountPoint) {
    MountFlags flags;
    flags.volumes = {"a1:/x", "a2:/x/"};
    EXPECT_EQ(error_of([&] { resolve_mounts(flags, {}, nullptr); }), "Duplicate mount point: /x");
    flags.volumes = {"a1:/x"};
    flags.mounts = {"type=volume,src=a2,dst=/x"};
    EXPECT_EQ(error_of([&] { resolve_mounts(flags, {}, nullptr); }), "Duplicate mount point: /x");
    flags.mounts.clear();
    flags.tmpfs = {"/x"};
    EXPECT_EQ(error_of([&] { resolve_mounts(flags, {}, nullptr); }), "Duplicate mount point: /x");
}

TEST_F(ResolveMounts, VolumesFromCopiesVolumesAndBindsWithRo) {
    Container other = data_container();
    MountFlags flags;
    flags.volumes_from = {"store:ro"};
    auto mounts = resolve_mounts(flags, {}, &containers);
    ASSERT_EQ(mounts.size(), 3u);  // not the tmpfs
    for (const auto& m : mounts) {
        EXPECT_TRUE(m.read_only) << m.target;
        EXPECT_NE(m.type, Type::kTmpfs);
    }
    EXPECT_EQ(mounts[0].source, "shared");
    EXPECT_EQ(mounts[1].source, std::string(64, 'a'));
    EXPECT_TRUE(mounts[1].anonymous);

    // Without :ro each keeps its own mode; a -v at the same target replaces it.
    flags.volumes_from = {other.id.substr(0, 12)};
    flags.volumes = {"mine:/data"};
    mounts = resolve_mounts(flags, {"/data", "/srv"}, &containers);
    ASSERT_EQ(mounts.size(), 3u);
    for (const auto& m : mounts) {
        if (m.target == "/data") {
            EXPECT_EQ(m.source, "mine");
        } else if (m.target == "/anon") {
            EXPECT_FALSE(m.read_only);
        } else {
            EXPECT_EQ(m.target, "/srv");
            EXPECT_TRUE(m.read_only);
        }
    }

    flags.volumes_from = {"nosuch"};
    flags.volumes.clear();
    try {
        resolve_mounts(flags, {}, &containers);
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::kNotFound);
        EXPECT_NE(std::string(e.what()).find("No such container: nosuch"), std::string::npos);
    }
}

TEST_F(ResolveMounts, ParentsBeforeChildren) {
    MountFlags flags;
    flags.volumes = {"v1:/a/b/c", "v2:/a", "v3:/a/b"};
    auto mounts = resolve_mounts(flags, {}, nullptr);
    ASSERT_EQ(mounts.size(), 3u);
    EXPECT_EQ(mounts[0].target, "/a");
    EXPECT_EQ(mounts[1].target, "/a/b");
    EXPECT_EQ(mounts[2].target, "/a/b/c");
}

}  // namespace
}  // namespace strata::containers
