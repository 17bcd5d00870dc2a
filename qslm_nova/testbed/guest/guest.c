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
 * Testbed guest: a multiboot kernel that fills guest memory with non-zero
 * data and then dirties a working set of pages at a fixed rate, paced by
 * the PIT, reporting its progress on the debug console (port 0xe9).
 *
 * Command line (multiboot, QEMU -append), all values decimal:
 *   fillpct=N  percent of the memory above 4 MiB made non-zero (100)
 *   wss=N      pages in the dirtied working set (1024)
 *   rate=N     pages written per second, 0 = idle (0)
 *   hz=N       PIT tick frequency (1000)
 *   report=N   ticks between progress lines (1000)
 *   on=N off=N bursty writer: write for N ticks, then idle for N ticks
 *              (off=0, the default: a steady writer)
 *
 * Progress goes to the debug console and to COM1 (libvirt's serial
 * console file); a port without a device ignores the bytes.
 */

typedef unsigned int u32;
typedef unsigned short u16;
typedef unsigned char u8;
typedef unsigned long long u64;

#define PAGE 4096u
#define BASE (4u << 20)
#define PIT_HZ 1193182u

extern void irq0_stub(void);
extern void spurious_stub(void);

struct idt_entry {
    u16 off_lo;
    u16 sel;
    u8 zero;
    u8 type;
    u16 off_hi;
} __attribute__((packed));

struct idt_ptr {
    u16 limit;
    u32 base;
} __attribute__((packed));

static struct idt_entry idt[256];

static volatile u32 ticks;
static volatile u32 writes;
static u32 credit;
static u32 wpos;
static u32 rate;
static u32 hz = 1000;
static u32 wss = 1024;
static u32 seq;
static u32 burst_on;
static u32 burst_off;

static inline void outb(u16 port, u8 val)
{
    __asm__ volatile("outb %0, %1" : : "a"(val), "Nd"(port));
}

static void putc(char c)
{
    outb(0xe9, (u8)c);
    outb(0x3f8, (u8)c);
}

static void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

static void putu(u32 v)
{
    char buf[12];
    int i = 0;

    do {
        buf[i++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (i)
        putc(buf[--i]);
}

static int match(const char *s, const char *key)
{
    while (*key)
        if (*s++ != *key++)
            return 0;
    return *s == '=';
}

static u32 parse_u32(const char *s)
{
    u32 v = 0;

    while (*s >= '0' && *s <= '9')
        v = v * 10 + (u32)(*s++ - '0');
    return v;
}

static void set_gate(int vec, void (*fn)(void), u16 sel)
{
    u32 a = (u32)fn;

    idt[vec].off_lo = (u16)(a & 0xffff);
    idt[vec].sel = sel;
    idt[vec].zero = 0;
    idt[vec].type = 0x8e;
    idt[vec].off_hi = (u16)(a >> 16);
}

void irq0_handler(void)
{
    ticks++;
    if (!rate)
        return;
    if (burst_off && ticks % (burst_on + burst_off) >= burst_on)
        return;
    credit += rate;
    while (credit >= hz) {
        volatile u8 *p = (volatile u8 *)(BASE + wpos * PAGE + (seq & 63));

        *p = (u8)((seq & 0x7f) | 1);
        seq++;
        credit -= hz;
        writes++;
        if (++wpos >= wss)
            wpos = 0;
    }
}

void guest_main(u32 magic, u32 *mbi)
{
    u32 fillpct = 100, report = 1000, top, pages, fill, i;
    u16 cs;
    struct idt_ptr ip;
    u32 next;

    if (magic != 0x2BADB002) {
        puts("ERROR not started by a multiboot loader\n");
        return;
    }
    if (mbi[0] & 4) {
        const char *c = (const char *)mbi[4];

        while (*c) {
            while (*c == ' ')
                c++;
            if (match(c, "fillpct"))
                fillpct = parse_u32(c + 8);
            else if (match(c, "wss"))
                wss = parse_u32(c + 4);
            else if (match(c, "rate"))
                rate = parse_u32(c + 5);
            else if (match(c, "hz"))
                hz = parse_u32(c + 3);
            else if (match(c, "report"))
                report = parse_u32(c + 7);
            else if (match(c, "on"))
                burst_on = parse_u32(c + 3);
            else if (match(c, "off"))
                burst_off = parse_u32(c + 4);
            while (*c && *c != ' ')
                c++;
        }
    }
    if (!(mbi[0] & 1)) {
        puts("ERROR no memory information\n");
        return;
    }
    top = (1u << 20) + mbi[2] * 1024u;
    if (top > 0xf0000000u)
        top = 0xf0000000u;
    pages = top > BASE ? (top - BASE) / PAGE : 0;
    if (fillpct > 100)
        fillpct = 100;
    fill = pages / 100 * fillpct + pages % 100 * fillpct / 100;
    if (!wss)
        wss = 1;
    if (wss > pages)
        wss = pages;
    if (!hz || hz > PIT_HZ / 2)
        hz = 1000;
    if (!report)
        report = hz;
    if (!burst_on)
        burst_off = 0;

    for (i = 0; i < fill; i++)
        *(volatile u8 *)(BASE + i * PAGE + 2048) = (u8)(i | 1);

    __asm__ volatile("mov %%cs, %0" : "=r"(cs));
    for (i = 0; i < 256; i++)
        set_gate((int)i, spurious_stub, cs);
    set_gate(32, irq0_stub, cs);
    ip.limit = sizeof(idt) - 1;
    ip.base = (u32)idt;
    __asm__ volatile("lidt %0" : : "m"(ip));

    /* Remap the PICs to vectors 32..47; unmask IRQ0 only. */
    outb(0x20, 0x11);
    outb(0xa0, 0x11);
    outb(0x21, 0x20);
    outb(0xa1, 0x28);
    outb(0x21, 0x04);
    outb(0xa1, 0x02);
    outb(0x21, 0x01);
    outb(0xa1, 0x01);
    outb(0x21, 0xfe);
    outb(0xa1, 0xff);

    /* PIT channel 0, mode 2 (rate generator). */
    i = PIT_HZ / hz;
    outb(0x43, 0x34);
    outb(0x40, (u8)(i & 0xff));
    outb(0x40, (u8)(i >> 8));

    puts("READY mem_kb=");
    putu(mbi[2] + 1024);
    puts(" fill_pages=");
    putu(fill);
    puts(" wss=");
    putu(wss);
    puts(" rate=");
    putu(rate);
    puts(" hz=");
    putu(hz);
    puts(" on=");
    putu(burst_on);
    puts(" off=");
    putu(burst_off);
    puts("\n");

    next = report;
    __asm__ volatile("sti");
    for (;;) {
        __asm__ volatile("hlt");
        if (ticks >= next) {
            u32 t = ticks, w = writes;

            next = t + report;
            puts("T ");
            putu(t);
            puts(" W ");
            putu(w);
            puts("\n");
        }
    }
}
