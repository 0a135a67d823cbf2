#!/bin/sh
# A scheduled restore drill (OPR-21, OPR-24): restores the newest of the server's own backups (spe-backup-<UTC time>) into a
# scratch directory, checks every piece, the audit chain and that a server starts on it ('spe backup verify'), and records the
# outcome at the SPE as audit evidence (--record). The server cannot run drills itself because the backup secret key stays
# offline: run this where the key is kept, signed in there as an operator with 'spe login'. Exit status: that of the drill.
#
# Settings (environment; spe-restore-drill.service reads them from /etc/openspe/restore-drill.env):
#   SPE_BACKUP_DIRECTORY   the directory holding the spe-backup-* directories (Backup:Directory, or a copy of it)  required
#   SPE_BACKUP_SECRET_KEY  the backup secret key file; a locked key is unlocked with C4GH_PASSPHRASE                 required
#   SPE_AUDIT_PUBLIC_KEY   the audit public key ('spe audit public-key'), kept apart from the server                 recommended
#   SPE_WITNESS            a witness file ('spe audit witness'): the restored chain must hold its checkpoints       recommended
#   SPE_SCRATCH_DATABASE   for a PostgreSQL backup: an empty scratch database ("Host=...") for the drill
#   SPE_COMMAND            the spe command (default: spe on PATH)
set -eu
LC_ALL=C
export LC_ALL

root="${SPE_BACKUP_DIRECTORY:?set SPE_BACKUP_DIRECTORY to the directory holding the spe-backup-* directories}"
key="${SPE_BACKUP_SECRET_KEY:?set SPE_BACKUP_SECRET_KEY to the backup secret key file}"
spe="${SPE_COMMAND:-spe}"

# Note: names carry the UTC time to the second (a -N suffix when two fall in one second), so in byte order the last one is the
# newest. A directory without its manifest is a backup still being written (the manifest is written last): not drilled.
newest=""
for candidate in "$root"/spe-backup-*; do
    [ -d "$candidate" ] && [ -f "$candidate/manifest.c4gh" ] || continue
    newest="$candidate"
done

if [ -z "$newest" ]; then
    echo "spe-restore-drill: no complete backup (spe-backup-* with a manifest) in $root: nothing to drill." >&2
    exit 2
fi

set -- backup verify "$newest" --sk "$key" --record
if [ -n "${SPE_AUDIT_PUBLIC_KEY:-}" ]; then set -- "$@" --public-key "$SPE_AUDIT_PUBLIC_KEY"; fi
if [ -n "${SPE_WITNESS:-}" ]; then set -- "$@" --witness "$SPE_WITNESS"; fi
if [ -n "${SPE_SCRATCH_DATABASE:-}" ]; then set -- "$@" --database "$SPE_SCRATCH_DATABASE"; fi

echo "spe-restore-drill: drilling $newest" >&2
exec "$spe" "$@"
