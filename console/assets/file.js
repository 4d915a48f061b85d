// Shows the chosen file's name beside the 选择文件 button of a filepick.
document.querySelectorAll('.filepick input[type=file]').forEach(function (input) {
  input.addEventListener('change', function () {
    var name = input.parentNode.querySelector('.filepick-name');
    name.textContent = input.files.length ? input.files[0].name : '未选择文件';
  });
});
