# Sourced by startup.sh and phases.sh: sets bwrap_args, the baseline sandbox both compare against
# (`bwrap --unshare-all --die-with-parent --new-session`, /usr read-only, the merged-/usr links or
# binds of the host's root directories, a fresh /proc and /dev, a tmpfs /tmp).
bwrap_args=(--unshare-all --die-with-parent --new-session --ro-bind /usr /usr)
for d in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then bwrap_args+=(--symlink "$(readlink "/$d")" "/$d");
  elif [ -d "/$d" ]; then bwrap_args+=(--ro-bind "/$d" "/$d"); fi
done
bwrap_args+=(--proc /proc --dev /dev --tmpfs /tmp)
