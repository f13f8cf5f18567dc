() => {
  // Run once per page (Gradio calls this on load): [n] links in answers, and "Copy answer".
  const flash = (el) => {
    el.scrollIntoView({block: 'center'});
    el.classList.add('ca-flash');
    setTimeout(() => el.classList.remove('ca-flash'), 1600);
  };
  const copyText = (text, done) => {
    const fallback = () => {  // plain http on another machine is not a secure context
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
      done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  };
  document.addEventListener('click', (e) => {
    const link = e.target.closest('#ca-chat a[href^="#ca-cite-"]');
    if (link) {
      // the click also selects the message (its sources are shown): wait for its card n
      e.preventDefault();
      const n = link.getAttribute('href').slice('#ca-cite-'.length);
      const bots = Array.from(document.querySelectorAll('#ca-chat [data-testid="bot"]'));
      const k = bots.findIndex((b) => b.contains(link));
      let tries = 0;
      const go = () => {
        const card = document.querySelector(
          `#ca-sources [data-answer="${k}"] .ca-card[data-n="${n}"]`);
        if (card && card.offsetParent !== null) flash(card);
        else if (tries++ < 80) setTimeout(go, 100);
      };
      go();
      return;
    }
    const copy = e.target.closest('#ca-sources button.ca-copy');
    if (copy) {
      const md = copy.parentElement.querySelector('textarea.ca-md').value;
      copyText(md, () => {
        copy.textContent = 'Copied';
        setTimeout(() => { copy.textContent = 'Copy answer'; }, 1600);
      });
    }
  }, true);
}
