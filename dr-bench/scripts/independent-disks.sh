#!/usr/bin/env bash
# Makes three independent block devices for ReplicationBenchmark on a machine with one disk:
# RAM-backed files in /dev/shm, each attached to its own loop device, formatted ext4 (with its
# own journal) and mounted at /mnt/dr4j-disk-{a,b,c}. Each member store then has a device,
# a filesystem and a journal of its own, as on three disks; fsync is real (ext4 on a block
# device), the media is RAM. Needs root and about 3 x SIZE_GIB of free memory.
#
#   dr-bench/scripts/independent-disks.sh up [SIZE_GIB=5]
#   dr-bench/scripts/independent-disks.sh down
set -euo pipefail
action=${1:-up}
size_gib=${2:-5}
names=(a b c)
case "$action" in
  up)
    for n in "${names[@]}"; do
      img=/dev/shm/dr4j-disk-$n.img
      mnt=/mnt/dr4j-disk-$n
      if mountpoint -q "$mnt"; then echo "$mnt already mounted"; continue; fi
      truncate -s "${size_gib}G" "$img"
      dev=$(losetup --find --show "$img")
      mkfs.ext4 -q -F "$dev"
      mkdir -p "$mnt"
      mount "$dev" "$mnt"
      echo "$mnt on $dev ($img, ${size_gib} GiB)"
    done
    echo "memberDirs: /mnt/dr4j-disk-a,/mnt/dr4j-disk-b,/mnt/dr4j-disk-c"
    ;;
  down)
    for n in "${names[@]}"; do
      mnt=/mnt/dr4j-disk-$n
      img=/dev/shm/dr4j-disk-$n.img
      if mountpoint -q "$mnt"; then
        dev=$(findmnt -n -o SOURCE "$mnt")
        umount "$mnt"
        losetup -d "$dev"
      fi
      rm -f "$img"
      rmdir "$mnt" 2>/dev/null || true
    done
    ;;
  *) echo "usage: $0 up [SIZE_GIB] | down" >&2; exit 2 ;;
esac
