; cpudb probe guest: a multiboot kernel that reports, on the first serial port, what a
; QEMU guest really sees and can do. Build: nasm -f bin -o data/probe.bin probe/probe.asm
; (tests/test_probe_guest.py rebuilds it and compares the bytes with the shipped file).
;
; QEMU loads it with -kernel (the multiboot "a.out kludge": a flat binary whose header
; gives the load addresses; QEMU refuses 64-bit ELF kernels). The command line (-append)
; chooses what runs:  checks=nx,la57,1g-pages,  nohandlers  (no exception handlers:
; a fault then triple-faults, as a real kernel without its handlers would) and
; ignore-cpuid (set CR4.LA57 even when CPUID denies la57, as a kernel built for it does).
;
; Output, one line each (a check's name is printed with its outcome):
;   cpudb-probe 1                       banner and output format version
;   cpuid 0xLEAF 0xSUB: eax=... edx=... every CPUID row cpudb decodes (`cpuid -r` rows)
;   check NAME: ok | fault vector=N error=0x.. ip=0x.. cr2=0x.. at=STEP
;                                       | ignored | wrong-data | not-in-cpuid
;   done                                then exit through isa-debug-exit (QEMU status 1)
; A fault outside a check prints the fault line and "fatal" (QEMU status 3).
;
; Checks, in order: nx (EFER.NXE), la57 (CR4.LA57 with 5-level tables, then a read
; through a 57-bit address), long-mode (EFER.LME + paging), 1g-pages (a 1 GiB alias of
; RAM in a PDPT entry, read from RAM, then written at VGA memory, an MMIO access: with
; hardware page walks only an emulated access meets KVM's software walker). Code, data and
; handlers stay on 2 MiB pages.

bits 32
org 0x100000

MB_MAGIC   equ 0x1BADB002
MB_FLAGS   equ 0x00010000          ; bit 16: the header gives load addresses
COM1       equ 0x3F8
EXIT_PORT  equ 0xF4
ALIAS1G    equ 0x40000000          ; virtual 1 GiB: PDPT entry 1, a 1 GiB page at 0
ALIAS57    equ 0x01000000          ; << 24 = 1 << 48: PML5 entry 1 (only with LA57)
MAGIC      equ 0x43505544          ; "DUPC"
VGA        equ 0xB8000

F_NX       equ 1
F_LA57     equ 2
F_1G       equ 4
F_NOHANDLERS equ 8
F_IGNORE_CPUID equ 16

mb_header:
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)
    dd mb_header                    ; header_addr
    dd mb_header                    ; load_addr
    dd image_end                    ; load_end_addr
    dd bss_end                      ; bss_end_addr
    dd start                        ; entry_addr

magic_word: dd MAGIC

start:
    cli
    mov edi, bss_start
    mov ecx, (bss_end - bss_start) / 4
    xor eax, eax
    rep stosd
    mov esp, stack_top
    mov [mbi], ebx
    lgdt [gdt_desc]
    jmp 0x08:.flat
.flat:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    call parse_cmdline
    call build_idts
    lidt [idt_none_desc]            ; nohandlers: any fault triple-faults
    test dword [flags], F_NOHANDLERS
    jnz .idt_done
    lidt [idt32_desc]
.idt_done:
    mov esi, s_banner
    call puts32
    call dump_cpuid
    call build_tables

; ------------------------------------------------------------------ nx
    test dword [flags], F_NX
    jz .nx_done
    mov dword [pending], s_check_nx
    mov dword [step], s_at_efer_nxe
    mov dword [recover], .nx_done
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 11
    wrmsr
    mov dword [recover], 0
    mov esi, s_ok
    call result32
.nx_done:

; ------------------------------------------------------------------ la57, long mode
    mov eax, cr4
    or eax, 1 << 5                  ; PAE
    mov cr4, eax
    mov eax, pml4
    mov cr3, eax
    test dword [flags], F_LA57
    jz .to_long
    mov dword [pending], s_check_la57
    test dword [flags], F_IGNORE_CPUID
    jnz .la57_try
    mov eax, 7                      ; as a kernel does, ask CPUID first (QEMU 7.2's TCG
    xor ecx, ecx                    ; spins on a refused mov cr4 instead of #GP)
    cpuid
    test ecx, 1 << 16
    jnz .la57_try
    mov esi, s_not_in_cpuid
    call result32
    jmp .to_long
.la57_try:
    mov dword [step], s_at_cr4_la57
    mov dword [recover], .to_long
    mov eax, cr4
    or eax, 1 << 12                 ; LA57
    mov cr4, eax
    mov dword [recover], 0
    mov dword [pending], 0
    mov eax, pml5
    mov cr3, eax
    mov dword [la57_on], 1
.to_long:
    mov dword [pending], s_check_lm
    mov dword [step], s_at_efer_lme
    mov dword [recover], lm_failed
    mov ecx, 0xC0000080
    rdmsr
    or eax, 1 << 8                  ; LME
    wrmsr
    rdmsr
    test eax, 1 << 8
    jnz .lme_set
    mov dword [recover], 0
    mov esi, s_ignored
    call result32
    jmp finish32
.lme_set:
    mov dword [step], s_at_cr0_pg
    mov dword [recover], 0
    test dword [flags], F_NOHANDLERS
    jnz .lm_idt_done
    lidt [idt64_desc]               ; paging on makes IA-32e mode: 64-bit gates
.lm_idt_done:
    mov eax, cr0
    or eax, 0x80000001              ; PG | PE
    mov cr0, eax
    jmp 0x18:long_entry

lm_failed:                          ; EFER.LME refused: no 64-bit checks
    jmp finish32

; ------------------------------------------------------------------ 32-bit routines

finish32:
    mov esi, s_done
    call puts32
    xor eax, eax
    jmp exit32
fatal32:
    mov esi, s_fatal
    call puts32
    mov eax, 1
exit32:
    mov dx, EXIT_PORT
    out dx, eax
.hang:
    hlt
    jmp .hang

result32:                           ; esi: outcome of the pending check (name first)
    push esi
    mov esi, [pending]
    test esi, esi
    jz .named
    call puts32
    mov dword [pending], 0
.named:
    pop esi
    jmp puts32

putc32:                             ; al
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

puts32:                             ; esi: NUL-terminated
    push eax
    push esi
.next:
    lodsb
    test al, al
    jz .end
    call putc32
    jmp .next
.end:
    pop esi
    pop eax
    ret

hex32:                              ; eax, as 0x%08x
    push eax
    push ecx
    push edx
    mov edx, eax
    mov al, '0'
    call putc32
    mov al, 'x'
    call putc32
    mov ecx, 8
.digit:
    rol edx, 4
    mov eax, edx
    and eax, 0xF
    mov al, [hexdigits + eax]
    call putc32
    loop .digit
    pop edx
    pop ecx
    pop eax
    ret

hex8_32:                            ; al, as 0x%02x
    push eax
    push ecx
    push edx
    movzx edx, al
    shl edx, 24
    mov al, '0'
    call putc32
    mov al, 'x'
    call putc32
    mov ecx, 2
    jmp hex32.digit                 ; shares the digit loop and the epilogue

dec32:                              ; eax < 100
    push eax
    push edx
    xor edx, edx
    mov dl, 10
    div dl                          ; al = tens, ah = ones
    test al, al
    jz .ones
    add al, '0'
    call putc32
.ones:
    mov al, ah
    add al, '0'
    call putc32
    pop edx
    pop eax
    ret

; parse "checks=a,b,c" and "nohandlers" out of the multiboot command line
parse_cmdline:
    mov ebx, [mbi]
    test dword [ebx], 1 << 2
    jz .none
    mov esi, [ebx + 16]
.scan:
    cmp byte [esi], 0
    je .none
    mov edi, k_nohandlers
    call word_at
    jne .try_ignore
    or dword [flags], F_NOHANDLERS
.try_ignore:
    mov edi, k_ignore_cpuid
    call word_at
    jne .try_checks
    or dword [flags], F_IGNORE_CPUID
.try_checks:
    mov edi, k_checks
    call prefix_at
    jne .advance
    add esi, k_checks_len
.token:
    mov edi, k_nx
    call word_at
    jne .t2
    or dword [flags], F_NX
.t2:
    mov edi, k_la57
    call word_at
    jne .t3
    or dword [flags], F_LA57
.t3:
    mov edi, k_1g
    call word_at
    jne .skip
    or dword [flags], F_1G
.skip:                              ; to after the next ',' (or stop at ' '/NUL)
    mov al, [esi]
    test al, al
    jz .none
    cmp al, ' '
    je .scan
    inc esi
    cmp al, ','
    je .token
    jmp .skip
.advance:
    inc esi
    jmp .scan
.none:
    ret

prefix_at:                          ; ZF: string edi starts at esi
    push esi
    push edi
.cmp:
    mov al, [edi]
    test al, al
    jz .yes
    cmp al, [esi]
    jne .no
    inc esi
    inc edi
    jmp .cmp
.yes:
    cmp al, al
.no:
    pop edi
    pop esi
    ret

word_at:                            ; ZF: word edi at esi, followed by ',', ' ' or NUL
    push esi
    push edi
.cmp:
    mov al, [edi]
    test al, al
    jz .end
    cmp al, [esi]
    jne .no
    inc esi
    inc edi
    jmp .cmp
.end:
    mov al, [esi]
    test al, al
    jz .no                          ; ZF set: matched at the end
    cmp al, ' '
    je .no
    cmp al, ','
.no:
    pop edi
    pop esi
    ret

; every CPUID row cpudb decodes
dump_cpuid:
    xor eax, eax
    cpuid
    mov ebp, eax
    cmp ebp, 0x3F
    jbe .basic_ok
    mov ebp, 0x3F
.basic_ok:
    xor edi, edi
.basic:
    call dump_leaf
    inc edi
    cmp edi, ebp
    jbe .basic
    mov edi, 0x40000000
    call dump_leaf
    mov edi, 0x40000001
    call dump_leaf
    mov edi, 0x80000000
    mov ebp, 0x80000040
    call dump_range
    mov edi, 0xC0000000
    mov ebp, 0xC0000007
    call dump_range
    ret

dump_range:                         ; edi: range leaf; ebp: cap; dumps edi..min(max, cap)
    mov eax, edi
    xor ecx, ecx
    cpuid
    mov edx, eax
    sub edx, edi
    cmp edx, 0xFFFF
    ja .only_first                  ; not a range answer: the leaf alone
    cmp eax, ebp
    jbe .top_ok
    mov eax, ebp
.top_ok:
    mov ebp, eax
.next:
    call dump_leaf
    inc edi
    cmp edi, ebp
    jbe .next
    ret
.only_first:
    call dump_leaf
    ret

dump_leaf:                          ; edi: leaf; its subleaves as cpudb reads them
    xor esi, esi                    ; last subleaf
    cmp edi, 0x7
    je .eax_max
    cmp edi, 0x14
    je .eax_max
    cmp edi, 0x24
    je .eax_max
    cmp edi, 0xD
    je .two
    cmp edi, 0x12
    je .two
    jmp .rows
.two:
    mov esi, 1
    jmp .rows
.eax_max:
    mov eax, edi
    xor ecx, ecx
    cpuid
    mov esi, eax
    cmp esi, 3
    jbe .rows
    mov esi, 3
.rows:
    xor ecx, ecx
.row:
    push ecx
    push esi
    push ecx
    mov eax, edi
    cpuid
    mov [regs], eax
    mov [regs + 4], ebx
    mov [regs + 8], ecx
    mov [regs + 12], edx
    mov esi, s_cpuid
    call puts32
    mov eax, edi
    call hex32
    mov al, ' '
    call putc32
    pop eax
    call hex8_32
    mov esi, s_eax
    call puts32
    mov eax, [regs]
    call hex32
    mov esi, s_ebx
    call puts32
    mov eax, [regs + 4]
    call hex32
    mov esi, s_ecx
    call puts32
    mov eax, [regs + 8]
    call hex32
    mov esi, s_edx
    call puts32
    mov eax, [regs + 12]
    call hex32
    mov al, 10
    call putc32
    pop esi
    pop ecx
    inc ecx
    cmp ecx, esi
    jbe .row
    ret

; 2 MiB identity pages for the first 1 GiB; PML5 -> PML4 -> PDPT -> PD
build_tables:
    mov dword [pml5], pml4 + 3
    mov dword [pml5 + 8], pml4 + 3  ; entry 1: 1 << 48 aliases the low half
    mov dword [pml4], pdpt + 3
    mov dword [pdpt], pd + 3
    xor ecx, ecx
.pd:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83                    ; P | RW | PS
    mov [pd + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jb .pd
    ret

; IDT gates for both modes, from the stub address tables
build_idts:
    xor ecx, ecx
.gate:
    mov eax, [stubs32 + ecx * 4]
    mov edx, eax
    and eax, 0xFFFF
    or eax, 0x08 << 16
    mov [idt32 + ecx * 8], eax
    and edx, 0xFFFF0000
    or edx, 0x8E00
    mov [idt32 + ecx * 8 + 4], edx
    mov eax, [stubs64 + ecx * 4]
    mov edx, eax
    and eax, 0xFFFF
    or eax, 0x18 << 16
    mov ebx, ecx
    shl ebx, 4
    mov [idt64 + ebx], eax
    and edx, 0xFFFF0000
    or edx, 0x8E00
    mov [idt64 + ebx + 4], edx
    inc ecx
    cmp ecx, 32
    jb .gate
    ret

; exceptions in 32-bit code: [esp] vector, [esp+4] error code, [esp+8] eip
%macro STUB32 1
exc32_%1:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
%else
    push dword 0
%endif
    push dword %1
    jmp exc32_common
%endmacro
%assign v 0
%rep 32
STUB32 v
%assign v v + 1
%endrep

exc32_common:
    mov esi, s_none
    call result32                   ; the pending check's name, if any
    mov esi, s_fault
    call puts32
    mov eax, [esp]
    call dec32
    mov esi, s_error
    call puts32
    mov eax, [esp + 4]
    call hex32
    mov esi, s_ip
    call puts32
    mov eax, [esp + 8]
    call hex32
    mov esi, s_cr2
    call puts32
    mov eax, cr2
    call hex32
    mov esi, s_at
    call puts32
    mov esi, [step]
    call puts32
    mov al, 10
    call putc32
    mov eax, [recover]
    test eax, eax
    jz fatal32
    mov dword [recover], 0
    mov esp, stack_top
    jmp eax

; ------------------------------------------------------------------ 64-bit code
bits 64

long_entry:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, stack_top
    mov esi, s_ok
    call result64

    cmp dword [la57_on], 0
    je .la57_done
    mov dword [pending], s_check_la57
    mov rax, cr4
    bt rax, 12
    jc .la57_read
    mov esi, s_ignored
    call result64
    jmp .la57_done
.la57_read:
    mov dword [step], s_at_read57
    mov qword [recover], .la57_done
    mov rax, (ALIAS57 << 24) + magic_word
    mov eax, [rax]
    mov qword [recover], 0
    mov esi, s_ok
    cmp eax, MAGIC
    je .la57_said
    mov esi, s_wrong
.la57_said:
    call result64
.la57_done:

    test dword [flags], F_1G
    jz .g1_done
    mov dword [pending], s_check_1g
    mov qword [pdpt + 8], 0x83      ; a 1 GiB page: P | RW | PS at physical 0
    invlpg [ALIAS1G]
    invlpg [ALIAS1G + VGA]
    mov dword [step], s_at_ram_read
    mov qword [recover], .g1_done
    mov eax, [ALIAS1G + magic_word]
    cmp eax, MAGIC
    jne .g1_wrong
    mov dword [step], s_at_mmio_write
    mov word [ALIAS1G + VGA], 0x0F50
    mov qword [recover], 0
    mov esi, s_ok
    call result64
    jmp .g1_done
.g1_wrong:
    mov qword [recover], 0
    mov esi, s_wrong
    call result64
.g1_done:
    mov esi, s_done
    call puts64
    xor eax, eax
    jmp exit64
fatal64:
    mov esi, s_fatal
    call puts64
    mov eax, 1
exit64:
    mov dx, EXIT_PORT
    out dx, eax
.hang:
    hlt
    jmp .hang

result64:
    push rsi
    mov esi, [pending]
    test esi, esi
    jz .named
    call puts64
    mov dword [pending], 0
.named:
    pop rsi
    jmp puts64

putc64:
    push rdx
    push rax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop rax
    mov dx, COM1
    out dx, al
    pop rdx
    ret

puts64:
    push rax
    push rsi
.next:
    lodsb
    test al, al
    jz .end
    call putc64
    jmp .next
.end:
    pop rsi
    pop rax
    ret

hex64_32:                           ; eax, as 0x%08x
    push rax
    push rcx
    push rdx
    mov edx, eax
    mov al, '0'
    call putc64
    mov al, 'x'
    call putc64
    mov ecx, 8
.digit:
    rol edx, 4
    mov eax, edx
    and eax, 0xF
    mov al, [hexdigits + rax]
    call putc64
    loop .digit
    pop rdx
    pop rcx
    pop rax
    ret

dec64:
    push rax
    push rdx
    xor edx, edx
    mov dl, 10
    div dl
    test al, al
    jz .ones
    add al, '0'
    call putc64
.ones:
    mov al, ah
    add al, '0'
    call putc64
    pop rdx
    pop rax
    ret

; exceptions in 64-bit code: [rsp] vector, [rsp+8] error code, [rsp+16] rip
%macro STUB64 1
exc64_%1:
%if (%1 == 8) || (%1 >= 10 && %1 <= 14) || (%1 == 17) || (%1 == 21) || (%1 == 29) || (%1 == 30)
%else
    push qword 0
%endif
    push qword %1
    jmp exc64_common
%endmacro
%assign v 0
%rep 32
STUB64 v
%assign v v + 1
%endrep

exc64_common:
    mov esi, s_none
    call result64
    mov esi, s_fault
    call puts64
    mov eax, [rsp]
    call dec64
    mov esi, s_error
    call puts64
    mov eax, [rsp + 8]
    call hex64_32
    mov esi, s_ip
    call puts64
    mov eax, [rsp + 16]
    call hex64_32
    mov esi, s_cr2
    call puts64
    mov rax, cr2
    call hex64_32
    mov esi, s_at
    call puts64
    mov esi, [step]
    call puts64
    mov al, 10
    call putc64
    mov rax, [recover]
    test rax, rax
    jz fatal64
    mov qword [recover], 0
    mov rsp, stack_top
    jmp rax

; ------------------------------------------------------------------ data

align 4
stubs32:
%assign v 0
%rep 32
    dd exc32_ %+ v
%assign v v + 1
%endrep
stubs64:
%assign v 0
%rep 32
    dd exc64_ %+ v
%assign v v + 1
%endrep

align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code
    dq 0x00CF92000000FFFF           ; 0x10: data
    dq 0x00AF9A000000FFFF           ; 0x18: 64-bit code
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_none_desc:
    dw 0
    dd 0
idt32_desc:
    dw 32 * 8 - 1
    dd idt32
idt64_desc:
    dw 32 * 16 - 1
    dd idt64

hexdigits:      db "0123456789abcdef"
s_banner:       db "cpudb-probe 1", 10, 0
s_cpuid:        db "cpuid ", 0
s_eax:          db ": eax=", 0
s_ebx:          db " ebx=", 0
s_ecx:          db " ecx=", 0
s_edx:          db " edx=", 0
s_check_nx:     db "check nx: ", 0
s_check_la57:   db "check la57: ", 0
s_check_lm:     db "check long-mode: ", 0
s_check_1g:     db "check 1g-pages: ", 0
s_ok:           db "ok", 10, 0
s_ignored:      db "ignored", 10, 0
s_wrong:        db "wrong-data", 10, 0
s_not_in_cpuid: db "not-in-cpuid", 10, 0
s_fault:        db "fault vector=", 0
s_error:        db " error=", 0
s_ip:           db " ip=", 0
s_cr2:          db " cr2=", 0
s_at:           db " at=", 0
s_none:         db 0
s_done:         db "done", 10, 0
s_fatal:        db "fatal", 10, 0
s_at_none:      db "-", 0
s_at_efer_nxe:  db "wrmsr-efer-nxe", 0
s_at_cr4_la57:  db "mov-cr4-la57", 0
s_at_read57:    db "read-57-bit-address", 0
s_at_efer_lme:  db "wrmsr-efer-lme", 0
s_at_cr0_pg:    db "mov-cr0-pg", 0
s_at_ram_read:  db "ram-read", 0
s_at_mmio_write: db "mmio-write", 0
k_checks:       db "checks=", 0
k_checks_len    equ 7
k_nohandlers:   db "nohandlers", 0
k_ignore_cpuid: db "ignore-cpuid", 0
k_nx:           db "nx", 0
k_la57:         db "la57", 0
k_1g:           db "1g-pages", 0

align 4
step:           dd s_at_none        ; what the code was doing (printed with a fault)
image_end:

; ------------------------------------------------------------------ bss (zeroed at start)
absolute image_end
alignb 4096
bss_start:
pml5:   resb 4096
pml4:   resb 4096
pdpt:   resb 4096
pd:     resb 4096
idt32:  resb 32 * 8
idt64:  resb 32 * 16
alignb 16
stack:  resb 16384
stack_top:
mbi:      resd 1
flags:    resd 1
la57_on:  resd 1
pending:  resd 1                    ; name of the running check, printed with its outcome
recover:  resq 1
regs:     resd 4
bss_end:
