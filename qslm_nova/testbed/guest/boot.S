/*
 * Copyright 2026 The qslm-nova Authors
 *
 * Licensed under the Apache License, Version 2.0 (the "License"); you may
 * not use this file except in compliance with the License. You may obtain
 * a copy of the License at
 *
 *      http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
 * WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
 * License for the specific language governing permissions and limitations
 * under the License.
 *
 * Multiboot (v1) entry of the qslm-nova testbed guest.
 */
        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0x00000002          /* want memory info */
        .set MB_CHECK, -(MB_MAGIC + MB_FLAGS)

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long MB_CHECK

        .section .bss
        .align 16
stack_bottom:
        .skip 16384
stack_top:

        .section .text
        .globl _start
_start:
        cli
        mov $stack_top, %esp
        push %ebx                          /* multiboot info */
        push %eax                          /* multiboot magic */
        call guest_main
1:      cli
        hlt
        jmp 1b

        /* PIT interrupt (IRQ0 remapped to vector 32). */
        .globl irq0_stub
irq0_stub:
        pusha
        cld
        call irq0_handler
        movb $0x20, %al
        outb %al, $0x20                    /* EOI to master PIC */
        popa
        iret

        /* Any other vector: acknowledge both PICs and return. */
        .globl spurious_stub
spurious_stub:
        push %eax
        movb $0x20, %al
        outb %al, $0xa0
        outb %al, $0x20
        pop %eax
        iret

        .section .note.GNU-stack, "", @progbits
