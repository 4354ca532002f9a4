#include "executor/copy/workdir_step.hpp"

#include <ctime>

#include "base/go/path.hpp"
#include "executor/copy/dest_state.hpp"
#include "executor/copy/layer_tree.hpp"
#include "executor/copy/owner.hpp"

namespace strata::executor {

void make_workdir(const std::string& path, const std::string& user, const LayerStackView& parent,
                  const std::filesystem::path& layer_dir,
                  std::optional<int64_t> source_date_epoch) {
    const std::string clean = go::path::clean("/" + path);
    const Resolved there = parent.resolve(clean, true);
    if (there.node && there.node->type == FileType::kDirectory) return;

    Owner owner;
    if (!user.empty()) owner = ChownSpec::parse(user).resolve(parent);
    struct timespec now {};
    clock_gettime(CLOCK_REALTIME, &now);
    const struct timespec mtime = source_date_epoch ? timespec{*source_date_epoch, 0} : now;

    std::vector<std::filesystem::path> merged_layers = parent.layers();
    merged_layers.push_back(layer_dir);
    LayerStackView merged(std::move(merged_layers), "the destination");
    LayerTree tree(layer_dir);
    tree.whole_second_times();  // the layer directory is what its blob unpacks to
    DestState dest(tree, parent, merged);
    dest.ensure_dir(there.path, owner, mtime);
    tree.finish();
}

}  // namespace strata::executor
