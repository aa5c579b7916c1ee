#!/bin/bash
# Run in the guest (make vm GUEST_SCRIPT="$PWD/upstream/6.12/bpftool-side-by-side.sh BPFTOOL...")
# from the selftests directory: each bpftool given registers the same .struct_ops.link map of
# the selftests' struct_ops_link_bpftool.bpf.o with and without a LINK_DIR that does not exist
# yet, shows its link, detaches it. For the cover letter: this tree's bpftool beside 6.12's.
obj=struct_ops_link_bpftool.bpf.o
dir=/sys/fs/bpf/side_by_side
pin=$dir/bpftool_sched
for bt in "$@"; do
	echo "=== $bt ($($bt version | head -n 1))"
	rm -f "$pin"
	rmdir "$dir" 2>/dev/null
	echo "\$ bpftool struct_ops register $obj $dir"
	$bt struct_ops register "$obj" "$dir"
	echo "[exit $?]"
	echo "\$ bpftool link show pinned $pin"
	$bt link show pinned "$pin"
	echo "\$ bpftool -j link show pinned $pin"
	$bt -j link show pinned "$pin"
	echo
	echo "\$ bpftool link detach pinned $pin"
	$bt link detach pinned "$pin"
	echo "[exit $?]"
	echo "\$ bpftool link show pinned $pin"
	$bt link show pinned "$pin"
	rm -f "$pin"
	rmdir "$dir"
	echo "\$ bpftool struct_ops register $obj"
	$bt struct_ops register "$obj"
	echo "[exit $?]"
	echo "\$ bpftool struct_ops show"
	$bt struct_ops show
	echo
done
