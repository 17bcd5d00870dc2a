#!/bin/bash
# Copyright 2026 The qslm-nova Authors
#
# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

# devstack plugin of qslm-nova.
#
#   [[local|localrc]]
#   enable_plugin qslm-nova https://opendev.org/x/qslm-nova
#
# Phases:
#   stack install      install qslm-nova into Nova's Python environment
#   stack post-config  nova.conf: scheduler filter, weigher, [qslm] and
#                      [qslm_keylime]; a validated topology file of this
#                      node's compute host; api-paste.ini: the pre-check;
#                      with service qslm-agent: the agent's configuration
#   stack extra        the topology of every registered nova-compute
#                      host; sample SLA flavors (gold/silver/bronze); the
#                      compute agent started (qslm-agent, a systemd unit)
#   unstack, clean     undo exactly what stack added: options (restoring
#                      values they replaced), sections, pipelines, the
#                      topology file; stop the agent (clean also removes
#                      its configuration)
# Every edit is made only when absent: running a phase twice changes
# nothing. Settings: devstack/settings.
#
# Uses devstack's ini helpers (iniset, iniget, iniget_multiline, iniadd,
# iniset_multiline, inidelete), setup_develop, is_service_enabled,
# run_process, stop_process and the openstack client, and the variables
# NOVA_CONF, NOVA_API_PASTE_INI and STACK_USER.

# Save trace setting
_XTRACE_QSLM=$(set +o | grep xtrace)
set +o xtrace

_QSLM_PLUGIN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=devstack/settings
source "$_QSLM_PLUGIN_DIR/settings"

_QSLM_LIBVIRT_OPTS="live_migration_downtime live_migration_downtime_steps
live_migration_downtime_delay live_migration_completion_timeout
live_migration_timeout_action live_migration_permit_post_copy
live_migration_permit_auto_converge live_migration_bandwidth"


# Helpers
# -------

# _qslm_trim <text>: strip leading and trailing blanks.
function _qslm_trim {
    local text="$1"
    text="${text#"${text%%[![:space:]]*}"}"
    text="${text%"${text##*[![:space:]]}"}"
    echo "$text"
}

# _qslm_in_list <comma list> <item>: is item one of the list's entries?
function _qslm_in_list {
    local list="$1" item="$2" entry
    local IFS=,
    for entry in $list; do
        if [[ "$(_qslm_trim "$entry")" == "$item" ]]; then
            return 0
        fi
    done
    return 1
}

# _qslm_list_without <comma list> <item>: the list without that entry.
function _qslm_list_without {
    local list="$1" item="$2" entry out=""
    local IFS=,
    for entry in $list; do
        entry=$(_qslm_trim "$entry")
        if [[ -n "$entry" && "$entry" != "$item" ]]; then
            out="${out:+$out,}$entry"
        fi
    done
    echo "$out"
}

# _qslm_is_true <value>
function _qslm_is_true {
    [[ "${1,,}" =~ ^(true|yes|on|1)$ ]]
}

# _qslm_state_has <key> / _qslm_state_add <key> / _qslm_state_del <key>:
# the keys of the options whose Nova default the plugin wrote.
function _qslm_state_has {
    [[ -f "$QSLM_STATE_FILE" ]] && grep -qxF "$1" "$QSLM_STATE_FILE"
}

function _qslm_state_add {
    if ! _qslm_state_has "$1"; then
        mkdir -p "$(dirname "$QSLM_STATE_FILE")"
        echo "$1" >> "$QSLM_STATE_FILE"
    fi
}

function _qslm_state_del {
    if _qslm_state_has "$1"; then
        local rest
        rest=$(grep -vxF "$1" "$QSLM_STATE_FILE" || true)
        if [[ -n "$rest" ]]; then
            echo "$rest" > "$QSLM_STATE_FILE"
        else
            rm -f "$QSLM_STATE_FILE"
        fi
    fi
}

# _qslm_nova_default <group> <option>: Nova's default value of an option,
# as a comma list, read from the installed Nova.
function _qslm_nova_default {
    "$QSLM_PYTHON" - "$1" "$2" <<'EOF'
import sys

from oslo_config import cfg
import nova.conf.scheduler

conf = cfg.ConfigOpts()
nova.conf.scheduler.register_opts(conf)
conf([])
value = conf[sys.argv[1]][sys.argv[2]]
print(','.join(value) if isinstance(value, list) else value)
EOF
}

# _qslm_ini_keys <file> <section>: the option names of a section.
function _qslm_ini_keys {
    awk -v section="[$2]" '
        /^\[/ { inside = ($0 == section); next }
        inside && /^[^#;[:space:]][^=]*=/ {
            key = $0; sub(/[[:space:]]*=.*/, "", key); print key
        }' "$1"
}

# _qslm_ini_has_section <file> <section>
function _qslm_ini_has_section {
    grep -qxF "[$2]" "$1"
}

# _qslm_ini_remove_section <file> <section>: drop the section, its lines
# and the blank line written before it.
function _qslm_ini_remove_section {
    local file="$1" section="$2" tmp
    _qslm_ini_has_section "$file" "$section" || return 0
    tmp=$(mktemp)
    awk -v section="[$2]" '
        /^\[/ { skip = ($0 == section) }
        skip { next }
        {
            if (held) { print ""; held = 0 }
            if ($0 == "") { held = 1; next }
            print
        }
        END { }' "$file" > "$tmp"
    cat "$tmp" > "$file"
    rm -f "$tmp"
}


# Install
# -------

function install_qslm_nova {
    setup_develop "$QSLM_DIR"
}


# nova.conf
# ---------

# The state file lists what the plugin added, so that unstack/clean remove
# exactly that and leave values the operator had set alone:
#   <option>+<entry>      entry appended to a [filter_scheduler] option
#   <option>=<value>      option was absent; Nova's default written first
#   paste:<section>:<key> pipeline the pre-check was inserted into
#   paste:filter          the [filter:...] section was created
#   section:<section>     the nova.conf section was created
#   opt:<section>:<name>  the option was absent and was written
#   optwas:<section>:<name>=<value>  the option had this value before
#   topology              the topology file was written

# _qslm_add_list_entry <option> <entry>: append entry to a comma list
# option of [filter_scheduler]; an absent option starts from Nova's
# default.
function _qslm_add_list_entry {
    local option="$1" entry="$2" current
    current=$(iniget "$NOVA_CONF" filter_scheduler "$option")
    if [[ -z "$current" ]]; then
        current=$(_qslm_nova_default filter_scheduler "$option")
        _qslm_state_add "$option=$current"
    fi
    if ! _qslm_in_list "$current" "$entry"; then
        iniset "$NOVA_CONF" filter_scheduler "$option" "$current,$entry"
        _qslm_state_add "$option+$entry"
    fi
}

# _qslm_remove_list_entry <option> <entry>: the reverse.
function _qslm_remove_list_entry {
    local option="$1" entry="$2" current rest default
    current=$(iniget "$NOVA_CONF" filter_scheduler "$option")
    default=$(grep -m1 "^$option=" "$QSLM_STATE_FILE" 2>/dev/null || true)
    if [[ -n "$current" ]] && _qslm_state_has "$option+$entry"; then
        rest=$(_qslm_list_without "$current" "$entry")
        if [[ -z "$rest" ]] ||
                [[ -n "$default" && "$rest" == "${default#*=}" ]]; then
            inidelete "$NOVA_CONF" filter_scheduler "$option"
        elif [[ "$rest" != "$current" ]]; then
            iniset "$NOVA_CONF" filter_scheduler "$option" "$rest"
        fi
    fi
    _qslm_state_del "$option+$entry"
    if [[ -n "$default" ]]; then
        _qslm_state_del "$default"
    fi
}

function _qslm_configure_filter {
    local values
    values=$(iniget_multiline "$NOVA_CONF" filter_scheduler \
        available_filters)
    if [[ -z "$values" ]]; then
        # Adding a value to an absent option would replace Nova's default.
        iniadd "$NOVA_CONF" filter_scheduler available_filters \
            nova.scheduler.filters.all_filters
        _qslm_state_add "available_filters=nova.scheduler.filters.all_filters"
        values=nova.scheduler.filters.all_filters
    fi
    if [[ " $values " != *" $QSLM_FILTER_CLASS "* ]]; then
        iniadd "$NOVA_CONF" filter_scheduler available_filters \
            "$QSLM_FILTER_CLASS"
        _qslm_state_add "available_filters+$QSLM_FILTER_CLASS"
    fi
    _qslm_add_list_entry enabled_filters "$QSLM_FILTER_NAME"
}

function _qslm_unconfigure_filter {
    local values value rest=()
    local default="available_filters=nova.scheduler.filters.all_filters"
    local added="available_filters+$QSLM_FILTER_CLASS"
    values=$(iniget_multiline "$NOVA_CONF" filter_scheduler \
        available_filters)
    if _qslm_state_has "$added"; then
        for value in $values; do
            if [[ "$value" != "$QSLM_FILTER_CLASS" ]]; then
                rest+=("$value")
            fi
        done
        if _qslm_state_has "$default" &&
                [[ "${rest[*]}" == "${default#*=}" ]]; then
            rest=()
        fi
        if [[ "${rest[*]}" != "$values" ]]; then
            if [[ ${#rest[@]} -eq 0 ]]; then
                inidelete "$NOVA_CONF" filter_scheduler available_filters
            else
                iniset_multiline "$NOVA_CONF" filter_scheduler \
                    available_filters "${rest[@]}"
            fi
        fi
    fi
    _qslm_state_del "$added"
    _qslm_state_del "$default"
    _qslm_remove_list_entry enabled_filters "$QSLM_FILTER_NAME"
}

# _qslm_has_option <section> <name>: is the option set in nova.conf?
function _qslm_has_option {
    _qslm_ini_keys "$NOVA_CONF" "$1" | grep -qxF "$2"
}

# _qslm_set_opt <section> <name> <value>: set a nova.conf option,
# remembering whether it was absent or what it was, for unstack.
function _qslm_set_opt {
    local section="$1" name="$2" value="$3"
    if ! _qslm_ini_has_section "$NOVA_CONF" "$section"; then
        _qslm_state_add "section:$section"
    fi
    if ! _qslm_state_has "opt:$section:$name" &&
            ! grep -q "^optwas:$section:$name=" "$QSLM_STATE_FILE" \
                2>/dev/null; then
        if _qslm_has_option "$section" "$name"; then
            _qslm_state_add "optwas:$section:$name=$(iniget "$NOVA_CONF" \
                "$section" "$name")"
        else
            _qslm_state_add "opt:$section:$name"
        fi
    fi
    iniset "$NOVA_CONF" "$section" "$name" "$value"
}

# _qslm_unset_opts: the reverse of every _qslm_set_opt.
function _qslm_unset_opts {
    local line rest section name
    local -a lines=()
    if [[ -f "$QSLM_STATE_FILE" ]]; then
        mapfile -t lines < "$QSLM_STATE_FILE"
    fi
    for line in "${lines[@]}"; do
        case "$line" in
            opt:*)
                rest=${line#opt:}
                inidelete "$NOVA_CONF" "${rest%%:*}" "${rest#*:}"
                ;;
            optwas:*)
                rest=${line#optwas:}
                section=${rest%%:*}
                rest=${rest#*:}
                name=${rest%%=*}
                iniset "$NOVA_CONF" "$section" "$name" "${rest#*=}"
                ;;
            *)
                continue
                ;;
        esac
        _qslm_state_del "$line"
    done
    for line in "${lines[@]}"; do
        if [[ "$line" == section:* ]]; then
            section=${line#section:}
            if [[ -z "$(_qslm_ini_keys "$NOVA_CONF" "$section")" ]]; then
                _qslm_ini_remove_section "$NOVA_CONF" "$section"
            fi
            _qslm_state_del "$line"
        fi
    done
}

# _qslm_pairs <variable name> <words>: check name=value words.
function _qslm_pairs {
    local pair
    for pair in $2; do
        if [[ "$pair" != *=* ]]; then
            die "$LINENO" "$1: '$pair' is not name=value"
        fi
    done
}

function _qslm_configure_options {
    local opt value pair i
    local -a names=() values=()
    names+=(topology_file trust_providers max_attestation_age fail_closed)
    values+=("$QSLM_TOPOLOGY_FILE" "$QSLM_TRUST_PROVIDERS"
        "$QSLM_MAX_ATTESTATION_AGE" "$QSLM_FAIL_CLOSED")
    names+=(sla_estimate weight_multiplier apply_to_cold_migrations
        default_dirty_rate_mibps)
    values+=("$QSLM_SLA_ESTIMATE" "$QSLM_WEIGHT_MULTIPLIER"
        "$QSLM_APPLY_TO_COLD_MIGRATIONS" "$QSLM_DEFAULT_DIRTY_RATE_MBPS")
    if _qslm_is_true "$QSLM_MIRROR_LIBVIRT"; then
        for opt in $_QSLM_LIBVIRT_OPTS; do
            value=$(iniget "$NOVA_CONF" libvirt "$opt")
            if [[ -n "$value" ]]; then
                names+=("$opt")
                values+=("$value")
            fi
        done
    fi
    _qslm_pairs QSLM_EXTRA_OPTS "$QSLM_EXTRA_OPTS"
    for pair in $QSLM_EXTRA_OPTS; do
        names+=("${pair%%=*}")
        values+=("${pair#*=}")
    done
    # iniset puts a new option right after the section header: set them
    # last to first so that a new section reads in the order above. A
    # later value of the same option (QSLM_EXTRA_OPTS) wins.
    local -A written=()
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        if [[ -z "${written[${names[i]}]:-}" ]]; then
            _qslm_set_opt qslm "${names[i]}" "${values[i]}"
            written[${names[i]}]=1
        fi
    done
    _qslm_pairs QSLM_KEYLIME_OPTS "$QSLM_KEYLIME_OPTS"
    names=()
    for pair in $QSLM_KEYLIME_OPTS; do
        names=("$pair" "${names[@]}")
    done
    for pair in "${names[@]}"; do
        _qslm_set_opt qslm_keylime "${pair%%=*}" "${pair#*=}"
    done
}

# _qslm_mechanisms: the mechanisms of the generated hosts: the setting,
# else plain TCP, and QEMU native TLS only where nova.conf enables it.
function _qslm_mechanisms {
    if [[ -n "$QSLM_TOPOLOGY_MECHANISMS" ]]; then
        echo "$QSLM_TOPOLOGY_MECHANISMS"
    elif _qslm_is_true "$(iniget "$NOVA_CONF" libvirt \
            live_migration_with_native_tls)"; then
        echo "none, tls"
    else
        echo "none"
    fi
}

# _qslm_local_host: this node's compute host as Nova names it.
function _qslm_local_host {
    local host
    host=$(iniget "$NOVA_CONF" DEFAULT host)
    echo "${host:-$(hostname)}"
}

# _qslm_generated_topology <host...>: a one-switch topology of the hosts.
function _qslm_generated_topology {
    local host mechanisms
    mechanisms=$(_qslm_mechanisms)
    echo "# Generated by the qslm-nova devstack plugin from the stack's"
    echo "# compute hosts. Reference: etc/qslm-nova/topology.yaml.sample."
    echo "version: 1"
    echo "hosts:"
    for host in "$@"; do
        echo "  $host: {trusted: $QSLM_TOPOLOGY_TRUSTED," \
            "mechanisms: [$mechanisms]}"
    done
    echo "nodes:"
    echo "  devstack-switch: {kind: switch}"
    echo "links:"
    for host in "$@"; do
        echo "  - {between: [$host, devstack-switch]," \
            "bandwidth_gbps: $QSLM_TOPOLOGY_BANDWIDTH_GBPS," \
            "latency_ms: $QSLM_TOPOLOGY_LATENCY_MS," \
            "security: $QSLM_TOPOLOGY_SECURITY}"
    done
}

# _qslm_install_topology <file> [<origin>]: validate a topology and install
# it in QSLM_TOPOLOGY_FILE if it differs; a file the plugin did not write
# is the operator's and stays. Errors name <origin>, the operator's copy
# of the same text, when there is one.
function _qslm_install_topology {
    local tmp="$1" origin="${2:-$1}" dir errors staged
    if [[ -f "$QSLM_TOPOLOGY_FILE" ]] && ! _qslm_state_has topology; then
        echo "Keeping the existing $QSLM_TOPOLOGY_FILE" >&2
        return 0
    fi
    if ! errors=$("$QSLM_PYTHON" -m qslm_nova.cmd.main topology validate \
            --kind topology "$origin" -f value -c Valid 2>&1 >/dev/null); then
        die "$LINENO" "the topology for $QSLM_TOPOLOGY_FILE is invalid:" \
            "$errors"
    fi
    dir=$(dirname "$QSLM_TOPOLOGY_FILE")
    if [[ ! -d "$dir" ]]; then
        sudo install -d -o "$STACK_USER" -m 0755 "$dir"
    fi
    # Sealed, so that a service refuses a torn copy ([qslm] topology_seal),
    # and renamed into place in one step, so that a running scheduler
    # never reads it half written.
    if ! errors=$("$QSLM_PYTHON" -m qslm_nova.cmd.main topology seal \
            "$tmp" 2>&1 >/dev/null); then
        die "$LINENO" "cannot seal the topology for $QSLM_TOPOLOGY_FILE:" \
            "$errors"
    fi
    if ! cmp -s "$tmp" "$QSLM_TOPOLOGY_FILE"; then
        _qslm_state_add topology
        staged=$(sudo mktemp "$dir/.topology.XXXXXX")
        sudo install -o "$STACK_USER" -m 0644 "$tmp" "$staged"
        sudo mv -f "$staged" "$QSLM_TOPOLOGY_FILE"
    fi
}

# _qslm_write_topology [host...]: QSLM_TOPOLOGY_SOURCE, else the hosts
# of QSLM_TOPOLOGY_HOSTS, else the given hosts; nothing without hosts.
function _qslm_write_topology {
    local tmp
    local -a hosts=()
    if [[ -n "$QSLM_TOPOLOGY_HOSTS" ]]; then
        read -r -a hosts <<< "$QSLM_TOPOLOGY_HOSTS"
    else
        hosts=("$@")
    fi
    if [[ -z "$QSLM_TOPOLOGY_SOURCE" && ${#hosts[@]} -eq 0 ]]; then
        return 0
    fi
    tmp=$(mktemp)
    if [[ -n "$QSLM_TOPOLOGY_SOURCE" ]]; then
        if [[ ! -r "$QSLM_TOPOLOGY_SOURCE" ]]; then
            die "$LINENO" "QSLM_TOPOLOGY_SOURCE $QSLM_TOPOLOGY_SOURCE is" \
                "not readable"
        fi
        cat "$QSLM_TOPOLOGY_SOURCE" > "$tmp"
    else
        _qslm_generated_topology "${hosts[@]}" > "$tmp"
    fi
    _qslm_install_topology "$tmp" "${QSLM_TOPOLOGY_SOURCE:-$tmp}"
    rm -f "$tmp"
}

# _qslm_compute_hosts: the nova-compute hosts registered with Nova.
function _qslm_compute_hosts {
    openstack --os-cloud "$QSLM_OS_CLOUD" compute service list \
        --service nova-compute -f value -c Host | sort -u
}

# discover_qslm_topology: the topology of every registered compute host
# (stack extra), unless the operator named the hosts or a file.
function discover_qslm_topology {
    local -a hosts=()
    if [[ -n "$QSLM_TOPOLOGY_HOSTS" || -n "$QSLM_TOPOLOGY_SOURCE" ]]; then
        return 0
    fi
    mapfile -t hosts < <(_qslm_compute_hosts)
    if [[ ${#hosts[@]} -eq 0 ]]; then
        echo "WARNING: no nova-compute host is registered; the qslm-nova" \
            "topology is not written" >&2
        return 0
    fi
    _qslm_write_topology "${hosts[@]}"
}


# api-paste.ini
# -------------

function _qslm_configure_paste {
    local section key value new
    if ! _qslm_ini_has_section "$NOVA_API_PASTE_INI" \
            "filter:$QSLM_PASTE_FILTER"; then
        iniset "$NOVA_API_PASTE_INI" "filter:$QSLM_PASTE_FILTER" \
            paste.filter_factory "$QSLM_PASTE_FACTORY"
        _qslm_state_add "paste:filter"
    fi
    for section in $QSLM_PASTE_COMPOSITES; do
        for key in $(_qslm_ini_keys "$NOVA_API_PASTE_INI" "$section"); do
            [[ "$key" == use ]] && continue
            value=" $(iniget "$NOVA_API_PASTE_INI" "$section" "$key") "
            if [[ "$value" != *" $QSLM_PASTE_AFTER "* ||
                    "$value" == *" $QSLM_PASTE_FILTER "* ]]; then
                continue
            fi
            new=${value/ $QSLM_PASTE_AFTER / $QSLM_PASTE_AFTER $QSLM_PASTE_FILTER }
            iniset "$NOVA_API_PASTE_INI" "$section" "$key" \
                "$(_qslm_trim "$new")"
            _qslm_state_add "paste:$section:$key"
        done
    done
}

function _qslm_unconfigure_paste {
    local line section key value new
    local -a lines=()
    if [[ -f "$QSLM_STATE_FILE" ]]; then
        mapfile -t lines < "$QSLM_STATE_FILE"
    fi
    for line in "${lines[@]}"; do
        [[ "$line" == paste:*:* ]] || continue
        key=${line##*:}
        section=${line#paste:}
        section=${section%:*}
        value=" $(iniget "$NOVA_API_PASTE_INI" "$section" "$key") "
        if [[ "$value" == *" $QSLM_PASTE_FILTER "* ]]; then
            new=${value/ $QSLM_PASTE_FILTER / }
            iniset "$NOVA_API_PASTE_INI" "$section" "$key" \
                "$(_qslm_trim "$new")"
        fi
        _qslm_state_del "$line"
    done
    if _qslm_state_has "paste:filter"; then
        _qslm_ini_remove_section "$NOVA_API_PASTE_INI" \
            "filter:$QSLM_PASTE_FILTER"
        _qslm_state_del "paste:filter"
    fi
}


# Phases
# ------

function configure_qslm_nova {
    if _qslm_is_true "$QSLM_ENABLE_FILTER"; then
        _qslm_configure_filter
    fi
    if _qslm_is_true "$QSLM_ENABLE_WEIGHER"; then
        _qslm_add_list_entry weight_classes "$QSLM_WEIGHER_CLASS"
    fi
    _qslm_configure_options
    if is_service_enabled n-cpu; then
        _qslm_write_topology "$(_qslm_local_host)"
    else
        _qslm_write_topology
    fi
    if _qslm_is_true "$QSLM_ENABLE_PRECHECK" &&
            [[ -f "$NOVA_API_PASTE_INI" ]]; then
        _qslm_configure_paste
    fi
}

# _qslm_flavors: one line per flavor of QSLM_FLAVORS_FILE, tab separated:
# name, ram_mb, vcpus, disk_gb, then key=value extra specs.
function _qslm_flavors {
    "$QSLM_PYTHON" - "$QSLM_FLAVORS_FILE" <<'EOF'
import sys

import yaml

with open(sys.argv[1], encoding='utf-8') as f:
    doc = yaml.safe_load(f) or {}
for name, flavor in doc.items():
    fields = [str(name), str(flavor['ram_mb']), str(flavor.get('vcpus', 1)),
              str(flavor.get('disk_gb', 0))]
    fields += ['%s=%s' % kv for kv in
               sorted((flavor.get('extra_specs') or {}).items())]
    print('\t'.join(fields))
EOF
}

function create_qslm_flavors {
    local line name ram vcpus disk spec args
    local -a fields
    while IFS= read -r line; do
        IFS=$'\t' read -r -a fields <<< "$line"
        name=${fields[0]}
        ram=${fields[1]}
        vcpus=${fields[2]}
        disk=${fields[3]}
        if openstack --os-cloud "$QSLM_OS_CLOUD" flavor show "$name" \
                > /dev/null 2>&1; then
            continue
        fi
        args=()
        for spec in "${fields[@]:4}"; do
            args+=(--property "$spec")
        done
        openstack --os-cloud "$QSLM_OS_CLOUD" flavor create "$name" \
            --ram "$ram" --vcpus "$vcpus" --disk "$disk" "${args[@]}" \
            > /dev/null
    done < <(_qslm_flavors)
}

function cleanup_qslm_nova {
    if [[ -f "$NOVA_CONF" ]]; then
        _qslm_unconfigure_filter
        _qslm_remove_list_entry weight_classes "$QSLM_WEIGHER_CLASS"
        _qslm_unset_opts
    fi
    if [[ -f "$NOVA_API_PASTE_INI" ]]; then
        _qslm_unconfigure_paste
    fi
    if _qslm_state_has topology; then
        sudo rm -f "$QSLM_TOPOLOGY_FILE"
        _qslm_state_del topology
    fi
    if [[ -d "$QSLM_CONF_DIR" ]]; then
        sudo rmdir --ignore-fail-on-non-empty "$QSLM_CONF_DIR"
    fi
    rm -f "$QSLM_STATE_FILE"
}

# The compute agent
# ---------------

# configure_qslm_agent: its configuration file, with the credentials of
# Nova's service user for Nova and Placement (admin, which nova-api's
# [qslm] ledger_writer_roles admits by default).
function configure_qslm_agent {
    local conf=$QSLM_AGENT_CONF group
    sudo install -d -o "$STACK_USER" "$(dirname "$conf")"
    install -d "$QSLM_AGENT_STATE"
    if type get_notification_url > /dev/null 2>&1; then
        iniset "$conf" DEFAULT transport_url "$(get_notification_url)"
        iniset "$conf" oslo_messaging_notifications driver messagingv2
    fi
    iniset "$conf" qslm_agent nova_config_file "$QSLM_AGENT_NOVA_CONF"
    iniset "$conf" qslm_agent state_path "$QSLM_AGENT_STATE"
    for group in nova placement; do
        iniset "$conf" "$group" auth_type password
        iniset "$conf" "$group" auth_url "${KEYSTONE_SERVICE_URI:-}"
        iniset "$conf" "$group" username nova
        iniset "$conf" "$group" password "${SERVICE_PASSWORD:-}"
        iniset "$conf" "$group" user_domain_name \
            "${SERVICE_DOMAIN_NAME:-Default}"
        iniset "$conf" "$group" project_name "${SERVICE_PROJECT_NAME:-service}"
        iniset "$conf" "$group" project_domain_name \
            "${SERVICE_DOMAIN_NAME:-Default}"
        iniset "$conf" "$group" region_name "${REGION_NAME:-RegionOne}"
    done
}

# start_qslm_agent: run it under systemd (devstack@qslm-agent).
function start_qslm_agent {
    run_process qslm-agent \
        "$(dirname "$QSLM_PYTHON")/qslm-nova-agent --config-file $QSLM_AGENT_CONF"
}

function stop_qslm_agent {
    stop_process qslm-agent
}

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing qslm-nova"
    install_qslm_nova
elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    echo_summary "Configuring Nova for qslm-nova"
    configure_qslm_nova
    if is_service_enabled qslm-agent; then
        echo_summary "Configuring the qslm-nova compute agent"
        configure_qslm_agent
    fi
elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
    if is_service_enabled n-api; then
        echo_summary "Writing the qslm-nova topology of the compute hosts"
        discover_qslm_topology
    fi
    if _qslm_is_true "$QSLM_CREATE_FLAVORS" &&
            is_service_enabled n-api; then
        echo_summary "Creating the qslm-nova sample SLA flavors"
        create_qslm_flavors
    fi
    if is_service_enabled qslm-agent; then
        echo_summary "Starting the qslm-nova compute agent"
        start_qslm_agent
    fi
fi

if [[ "$1" == "unstack" || "$1" == "clean" ]]; then
    if is_service_enabled qslm-agent; then
        stop_qslm_agent
        if [[ "$1" == "clean" ]]; then
            sudo rm -f "$QSLM_AGENT_CONF"
        fi
    fi
    cleanup_qslm_nova
fi

# Restore xtrace
$_XTRACE_QSLM
