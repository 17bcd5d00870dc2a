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

# A stand-in for the few devstack functions the qslm-nova plugin calls.
# Written from their documented behaviour (same names, arguments and
# results), not copied from devstack:
#
#   iniget FILE SECTION OPTION            value(s) of OPTION, one a line
#   iniget_multiline FILE SECTION OPTION  all values, space separated
#   iniset [-sudo] FILE SECTION OPTION VALUE
#                    set every OPTION line of SECTION to VALUE; add the
#                    option after the section header, or the section (after
#                    a blank line) at the end of the file, when missing
#   iniset_multiline [-sudo] FILE SECTION OPTION VALUE...
#                    replace OPTION by one line per VALUE
#   iniadd [-sudo] FILE SECTION OPTION VALUE...
#                    append VALUEs to a multi-line OPTION
#   inidelete [-sudo] FILE SECTION OPTION  remove OPTION from SECTION
#   is_service_enabled NAME...  is any NAME in ENABLED_SERVICES (commas)
#   setup_develop DIR, pip_install ARGS   recorded in $STUB_LOG
#   run_process NAME COMMAND, stop_process NAME   recorded in $STUB_LOG
#   echo_summary, die, sudo (runs the command as the current user)
#
# Comment lines (# or ;) never match an option.

STUB_LOG=${STUB_LOG:-/dev/null}

function _stub_log {
    echo "$*" >> "$STUB_LOG"
}

function echo_summary {
    _stub_log "summary: $*"
}

function die {
    local line=$1
    shift
    echo "die at line $line: $*" >&2
    exit 1
}

function sudo {
    "$@"
}

function setup_develop {
    _stub_log "setup_develop $*"
}

function pip_install {
    _stub_log "pip_install $*"
}

function run_process {
    _stub_log "run_process $*"
}

function stop_process {
    _stub_log "stop_process $*"
}

function is_service_enabled {
    local name
    for name in "$@"; do
        if [[ ",${ENABLED_SERVICES}," == *",$name,"* ]]; then
            return 0
        fi
    done
    return 1
}

# _stub_values FILE SECTION OPTION: the values, one a line.
function _stub_values {
    awk -v section="[$2]" -v option="$3" '
        /^\[/ { inside = ($0 == section); next }
        inside {
            line = $0
            if (line ~ /^[#;]/) next
            eq = index(line, "=")
            if (eq == 0) next
            key = substr(line, 1, eq - 1)
            sub(/[ \t]+$/, "", key)
            if (key != option) next
            value = substr(line, eq + 1)
            sub(/^[ \t]+/, "", value)
            print value
        }' "$1"
}

function iniget {
    _stub_values "$@"
}

function iniget_multiline {
    local values
    values=$(_stub_values "$@")
    # Word splitting joins the lines with single spaces.
    # shellcheck disable=SC2086
    echo $values
}

# _stub_rewrite FILE SECTION OPTION MODE [VALUE...]
#   MODE set:     replace the option's lines by "OPTION = VALUE" (first
#                 occurrence keeps its place; later ones are dropped)
#   MODE replace: drop every option line, add one line per VALUE after the
#                 section header
#   MODE delete:  drop every option line
function _stub_rewrite {
    local file=$1 section=$2 option=$3 mode=$4
    shift 4
    local tmp
    tmp=$(mktemp)
    if ! grep -qxF "[$section]" "$file"; then
        if [[ $mode == delete ]]; then
            rm -f "$tmp"
            return 0
        fi
        printf '\n[%s]\n' "$section" >> "$file"
    fi
    STUB_VALUES=$(printf '%s\n' "$@") \
    awk -v section="[$section]" -v option="$option" -v mode="$mode" '
        function emit(   n, i, parts) {
            n = split(ENVIRON["STUB_VALUES"], parts, "\n")
            for (i = 1; i <= n; i++) print option " = " parts[i]
        }
        /^\[/ {
            if (inside && !done && mode == "set") { emit(); done = 1 }
            inside = ($0 == section)
            print
            if (inside && mode == "replace" && !done) { emit(); done = 1 }
            next
        }
        inside && $0 !~ /^[#;]/ && index($0, "=") {
            key = substr($0, 1, index($0, "=") - 1)
            sub(/[ \t]+$/, "", key)
            if (key == option) {
                if (mode == "set" && !done) { emit(); done = 1 }
                next
            }
        }
        { print }
        END { if (inside && !done && mode == "set") emit() }
    ' "$file" > "$tmp"
    cat "$tmp" > "$file"
    rm -f "$tmp"
}

function iniset {
    [[ "$1" == -sudo ]] && shift
    if [[ -f "$1" && -n "$(_stub_values "$1" "$2" "$3")" ]]; then
        _stub_rewrite "$1" "$2" "$3" set "$4"
    else
        # A new option goes right after the section header.
        _stub_rewrite "$1" "$2" "$3" replace "$4"
    fi
}

function iniset_multiline {
    [[ "$1" == -sudo ]] && shift
    local file=$1 section=$2 option=$3
    shift 3
    _stub_rewrite "$file" "$section" "$option" replace "$@"
}

function iniadd {
    [[ "$1" == -sudo ]] && shift
    local file=$1 section=$2 option=$3
    shift 3
    local -a values
    # shellcheck disable=SC2207
    values=($(iniget_multiline "$file" "$section" "$option") "$@")
    iniset_multiline "$file" "$section" "$option" "${values[@]}"
}

function inidelete {
    [[ "$1" == -sudo ]] && shift
    _stub_rewrite "$1" "$2" "$3" delete
}
