() => {
  // "Export conversation": the Markdown kept in the page, downloaded as a file (no server file)
  const md = document.querySelector('#ca-export-md textarea').value;
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([md], {type: 'text/markdown;charset=utf-8'}));
  a.download = 'conversation-' + new Date().toISOString().slice(0, 10) + '.md';
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
}
