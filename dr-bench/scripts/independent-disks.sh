#!/usr/bin/env bash
# Makes three independent block devices for ReplicationBenchmark on a machine with one disk:
# RAM-backed files in /dev/shm, each attached to its own loop device, formatted ext4 (with its
# own journal) and mounted at /mnt/dr4j-disk-{a,b,c}. Each member store then has a device,
# a filesystem and a journal of its own, as on three disks; fsync is real (ext4 on a block
# device), the media is RAM. WRITE_MBPS (default 125, the baseline of an AWS gp3 volume) caps
# each device's write bandwidth with the kernel's block throttle (cgroup v1 blkio), so that it
# behaves like a disk rather than like memory; 0 leaves them uncapped. Needs root and about
# 3 x SIZE_GIB of free memory. Note that a RAM device's "disk work" (the loop driver's copy into
# RAM) runs on the host's CPUs, which a real disk's DMA does not: on a small machine, high caps
# measure the CPUs, not the fan-out.
#
#   dr-bench/scripts/independent-disks.sh up [SIZE_GIB=5] [WRITE_MBPS=125]
#   dr-bench/scripts/independent-disks.sh down
set -euo pipefail
action=${1:-up}
size_gib=${2:-5}
write_mbps=${3:-125}
names=(a b c)
throttle=/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device
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
      if [ "$write_mbps" -gt 0 ]; then
        if [ -w "$throttle" ]; then
          echo "$(lsblk -dno MAJ:MIN "$dev" | tr -d ' ') $((write_mbps * 1000000))" > "$throttle"
        else
          echo "cannot cap $dev: $throttle is not writable (needs cgroup v1 blkio)" >&2
          exit 1
        fi
      fi
      echo "$mnt on $dev ($img, ${size_gib} GiB, writes capped at ${write_mbps} MB/s, 0 = uncapped)"
    done
    echo "memberDirs: /mnt/dr4j-disk-a,/mnt/dr4j-disk-b,/mnt/dr4j-disk-c"
    ;;
  down)
    for n in "${names[@]}"; do
      mnt=/mnt/dr4j-disk-$n
      img=/dev/shm/dr4j-disk-$n.img
      if mountpoint -q "$mnt"; then
        dev=$(findmnt -n -o SOURCE "$mnt")
        if [ -w "$throttle" ]; then
          echo "$(lsblk -dno MAJ:MIN "$dev" | tr -d ' ') 0" > "$throttle" || true
        fi
        umount "$mnt"
        losetup -d "$dev"
      fi
      rm -f "$img"
      rmdir "$mnt" 2>/dev/null || true
    done
    ;;
  *) echo "usage: $0 up [SIZE_GIB] | down" >&2; exit 2 ;;
esac
