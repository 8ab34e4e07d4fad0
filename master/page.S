/*
 * The admin home page (master/page.html), linked into the binary as
 * bytes: mst_page_html .. mst_page_html_end.  The page stays a plain HTML
 * file to edit and view; no generator and no new build dependency (the
 * assembler's .incbin reads it, path relative to the top directory).
 */
	.section .rodata
	.global	mst_page_html
	.global	mst_page_html_end
	.type	mst_page_html, @object
	.type	mst_page_html_end, @object
mst_page_html:
	.incbin	"master/page.html"
mst_page_html_end:
	.byte	0

	/* no executable stack */
	.section .note.GNU-stack,"",@progbits
